"""Template context the layout needs on every page: the user's workspaces and the projects
of the current workspace, loaded lazily (only pages that render the nav pay the query)."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tracker.access import workspaces_of
from tracker.models import ItemStatus, Membership, Project, WorkspaceRole


def _projects(request: HttpRequest, slug: str) -> list[Project]:
    user = request.user
    role = Membership.objects.filter(workspace__slug=slug, user=user).values_list("role", flat=True).first()
    if role is None:
        return []
    projects = Project.objects.filter(workspace__slug=slug)
    if role == WorkspaceRole.GUEST:  # guests see only projects they hold a role in, as in tracker.access
        projects = projects.filter(memberships__user=user)
    return list(projects.only("key", "name").order_by("key"))


def navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    if not request.user.is_authenticated or match is None:
        return {"nav_section": match.url_name if match else ""}
    slug = match.kwargs.get("ws") or match.kwargs.get("workspace") or match.kwargs.get("slug")
    return {
        "item_statuses": ItemStatus.choices,
        "nav_section": match.url_name or "",
        "nav_workspaces": SimpleLazyObject(lambda: list(workspaces_of(request.user).only("slug", "name"))),
        "nav_projects": SimpleLazyObject(lambda: _projects(request, slug) if slug else []),
    }
