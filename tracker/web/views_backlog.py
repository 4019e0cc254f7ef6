"""The backlog: ranked list, filters, inline create, drag-and-drop and keyboard moves, and
quick edits of status and estimate."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from tracker.access import Action, Actor
from tracker.models import BacklogItem, ItemKind, Label, Project, Segment
from tracker.services.backlog import item_create, item_move, item_update, items_rerank_by
from tracker.services.errors import StaleVersion
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, is_uuid, paginate, project_view, query_without, render_page
from tracker.web.queries import backlog_items, neighbour


def _list_context(request: HttpRequest, actor: Actor, project: Project) -> dict:
    # Queries: count (1), page of items with epic and sprint joined (1), their labels (1).
    params = request.GET
    page = paginate(backlog_items(project, params), request)
    items = list(page.object_list)
    sorted_by_impact = params.get("sort") == "impact"
    return {
        "page": page,
        "items": items,
        "params": params,
        "page_query": query_without(request, "page"),
        "can_rank": actor.can(Action.RANK, project) and not sorted_by_impact,
        "can_edit": actor.can(Action.EDIT_ITEMS, project),
        "sorted_by_impact": sorted_by_impact,
        "can_rerank": sorted_by_impact and actor.can(Action.RANK, project),
    }


@project_view
def backlog(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    actor.require(Action.VIEW, project)
    context = base_context(actor, project, **_list_context(request, actor, project))
    if not request.htmx:
        # Queries for the filter bar: epics (1), labels (1).
        context["epics"] = list(
            BacklogItem.objects.in_project(project).filter(kind=ItemKind.EPIC).only("number", "title").order_by("rank")
        )
        context["labels"] = list(Label.objects.filter(workspace=actor.workspace).values_list("name", flat=True))
        context["create_form"] = f.ItemCreateForm()
        context.update(filter_choices())
    return render_page(request, "tracker/backlog.html", context, fragment="tracker/partials/backlog_list.html")


def filter_choices() -> dict:
    return {
        "kind_choices": f.KIND_CHOICES,
        "status_choices": f.STATUS_FILTER_CHOICES,
        "segment_choices": f.BLANK + list(Segment.choices),
    }


@require_POST
@project_view
def backlog_create(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    actor.require(Action.EDIT_ITEMS, project)
    form = f.ItemCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            item_create(
                project=project,
                actor=request.user,
                title=data["title"],
                kind=data["kind"],
                estimate=data["estimate"] or None,
                position=data["position"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    if form.errors:
        response = render(
            request,
            "tracker/partials/backlog_create.html",
            {"create_form": form, "project": project, "workspace": actor.workspace},
            status=422,
        )
        return reswap(retarget(response, "#backlog-create"), "outerHTML") if request.htmx else response
    context = base_context(actor, project, **_list_context(request, actor, project))
    return render(request, "tracker/partials/backlog_list.html", context)


@require_POST
@project_view
def backlog_move(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    """Move one item: before/after another (drag and drop), to the top/bottom, or up/down one."""
    actor.require(Action.RANK, project)
    live = BacklogItem.objects.in_project(project)
    item = get_object_or_404(live, pk=_uuid(request.POST.get("item")))
    data = request.POST
    kwargs: dict = {}
    try:
        if data.get("before"):
            kwargs["before"] = get_object_or_404(live, pk=_uuid(data["before"]))
        elif data.get("after"):
            kwargs["after"] = get_object_or_404(live, pk=_uuid(data["after"]))
        elif data.get("direction") in ("up", "down"):
            # Up and down move past the neighbour in the list the user sees (same filters).
            other = neighbour(backlog_items(project, request.GET).order_by(), item, data["direction"])
            if other is not None:
                kwargs["before" if data["direction"] == "up" else "after"] = other
        else:
            kwargs["position"] = data.get("position")
        if kwargs:
            item_move(item=item, actor=request.user, **kwargs)
    except ValidationError as exc:
        return HttpResponse("; ".join(m for ms in exc.message_dict.values() for m in ms), status=422)
    if request.headers.get("X-Loopwise-Drag"):
        return HttpResponse(status=204)
    context = base_context(actor, project, **_list_context(request, actor, project))
    return render(request, "tracker/partials/backlog_list.html", context)


RERANK_LIMIT = 50


@require_POST
@project_view
def backlog_rerank(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    """Put the most impactful items (of the current filters) at the top of the backlog, in impact order."""
    actor.require(Action.RANK, project)
    params = request.GET.copy()
    params["sort"] = "impact"
    ordered = list(backlog_items(project, params).filter(impact_score__gt=0)[:RERANK_LIMIT])
    items_rerank_by(project=project, actor=request.user, ordered=ordered)
    params.pop("sort")
    query = params.urlencode()
    return redirect(f"/{actor.workspace.slug}/{project.key}/backlog/" + (f"?{query}" if query else ""))


def _uuid(value: str | None) -> str | None:
    """The value if it is a UUID, else None (which matches no row: a 404, not a 500)."""
    return str(value) if is_uuid(value) else None


@require_POST
@project_view
def item_quick_edit(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    """Change status and estimate from a backlog row or a board card."""
    actor.require(Action.EDIT_ITEMS, project)
    item = get_object_or_404(BacklogItem.objects.in_project(project).select_related("epic", "sprint"), number=number)
    form = f.QuickEditForm(request.POST)
    error = ""
    status = 200
    if form.is_valid():
        changes = {}
        if "status" in request.POST:
            changes["status"] = form.cleaned_data["status"]
        if "estimate" in request.POST:
            changes["estimate"] = form.cleaned_data["estimate"]
        try:
            item = item_update(item=item, actor=request.user, expected_version=form.cleaned_data["version"], **changes)
        except StaleVersion:
            item.refresh_from_db()
            error = f"{project.key}-{number} was changed by someone else meanwhile; here is the current version."
            status = 409
        except ValidationError as exc:
            item.refresh_from_db()
            error = " ".join(m for ms in exc.message_dict.values() for m in ms)
            status = 422
    else:
        error = "Reload the page: this form is incomplete."
        status = 422
    template = (
        "tracker/partials/board_card.html"
        if request.POST.get("view") == "board"
        else "tracker/partials/backlog_row.html"
    )
    context = base_context(
        actor, project, item=item, error=error, can_edit=True, can_rank=actor.can(Action.RANK, project)
    )
    return render(request, template, context, status=status)
