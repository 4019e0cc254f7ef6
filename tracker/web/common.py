"""Helpers every web view shares: the actor and project of a request, form errors from
service ValidationErrors, and full-page-or-fragment rendering for htmx."""

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject, cached_property

from tracker.access import Action, Actor, workspace_actor
from tracker.models import Project

PAGE_SIZE = 50


def member_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required (302 to /login/), then the actor of `ws` (404 for non-members)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = workspace_actor(request.user, ws)
        return view(request, actor, *args, **kwargs)

    return wrapper


def project_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like member_view, plus the project with `key` the actor may see (404 otherwise)."""

    @member_view
    @wraps(view)
    def wrapper(request: HttpRequest, actor: Actor, key: str, *args: Any, **kwargs: Any) -> HttpResponse:
        project = actor.project(key)
        return view(request, actor, project, *args, **kwargs)

    return wrapper


def base_context(actor: Actor, project: Project | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "workspace": actor.workspace,
        "actor": actor,
        "project": project,
        # For the project's Settings link in the navigation (no query: the roles are loaded).
        "can_manage_project": project is not None and actor.can(Action.MANAGE_PROJECT, project),
        # The navigation's projects from the actor already loaded (the context processor's
        # nav_projects, for pages without an actor, reads the membership again).
        "actor_nav_projects": SimpleLazyObject(lambda: list(actor.projects().only("key", "name").order_by("key"))),
        **extra,
    }


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or just `fragment` when htmx asks for part of it.

    A boosted request or a history restore (Back after a pushed URL fell out of htmx's
    cache) wants the whole page."""
    htmx = getattr(request, "htmx", None)
    if fragment and htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, fragment, context, status=status)
    return render(request, template, context, status=status)


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    """Field → messages from a service's ValidationError (a message dict or a plain message)."""
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
    return {"__all__": list(exc.messages)}


def apply_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's field errors on a Django form; unknown fields become form errors."""
    for name, messages in error_dict(exc).items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def paginate(queryset: Any, request: HttpRequest, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class CappedPaginator(Paginator):
    """Counts no further than needed: up to `cap` rows, or ten pages past the one asked for.

    Counting every match of an inbox filter at 200,000 feedback read thousands of rows
    (11 ms) to print a number nobody pages through; past the cap the page says "500+"
    and Next stays available, so every row can still be reached.
    """

    def __init__(self, object_list: Any, per_page: int, *, cap: int, page: Any = None) -> None:
        super().__init__(object_list, per_page)
        wanted = int(page) if str(page).isdigit() else 1
        self.cap = max(cap, (wanted + 10) * per_page)
        self.capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap + 1)

    @property
    def shown_count(self) -> str:
        """The count as a page prints it: exact, or the cap with a plus."""
        return f"{self.cap:,}+" if self.count and self.capped else f"{self.count:,}"


def paginate_capped(queryset: Any, request: HttpRequest, *, cap: int, per_page: int = PAGE_SIZE) -> Page:
    page = request.GET.get("page")
    return CappedPaginator(queryset, per_page, cap=cap, page=page).get_page(page)


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def query_without(request: HttpRequest, *names: str) -> str:
    """The current query string without `names` (for pagination and filter links)."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
