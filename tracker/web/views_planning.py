"""Sprint planning: the backlog beside the planned sprint, with totals against capacity and
velocity and the segment mix against the project's target."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import Action, Actor
from tracker.models import FINISHED_STATUSES, BacklogItem, Project, Sprint, SprintState
from tracker.services.errors import StaleVersion
from tracker.services.metrics import mix_vs_target, segment_mix, sprint_points, velocity
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_remove_items, sprint_start, sprint_update
from tracker.web import charts
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, is_uuid, paginate, project_view, query_without, render_page


def _planned(project: Project, number: str | None) -> Sprint | None:
    sprints = Sprint.objects.filter(project=project, state=SprintState.PLANNED).order_by("number")
    if number and number.isdigit():
        return sprints.filter(number=int(number)).first()
    return sprints.first()


def totals(project: Project, sprint: Sprint, items: list[BacklogItem]) -> dict:
    """Committed points against capacity and velocity, and the segment mix chart. Three queries."""
    points = sprint_points(items)
    team_velocity = velocity(project)
    mix = mix_vs_target(segment_mix([i.pk for i in items]), project)
    warnings = []
    if sprint.capacity and points > sprint.capacity:
        warnings.append(f"{points:g} points committed, over the capacity of {sprint.capacity}.")
    if team_velocity is not None and points > team_velocity:
        warnings.append(f"{points:g} points committed, over the team's velocity of {team_velocity:g}.")
    return {
        "points": points,
        "velocity": team_velocity,
        "warnings": warnings,
        "capacity_pct": min(100, round(100 * points / sprint.capacity)) if sprint.capacity else 0,
        "mix_chart": charts.mix_chart("Segment mix: sprint vs target", mix),
    }


def _board_context(request: HttpRequest, actor: Actor, project: Project, sprint: Sprint | None) -> dict:
    # Queries: backlog count (1) and page (1), its segments (1); sprint items (1) and their
    # segments (1); totals (3: velocity, mix estimates, mix links).
    backlog = (
        BacklogItem.objects.in_project(project)
        .filter(sprint__isnull=True)
        .exclude(status__in=FINISHED_STATUSES)
        .exclude(kind="epic")
        .order_by("rank")
    )
    if request.GET.get("q"):
        backlog = backlog.filter(title__icontains=request.GET["q"])
    page = paginate(backlog, request, per_page=40)
    backlog_rows = list(page.object_list)
    sprint_rows = list(BacklogItem.objects.in_sprint(sprint).order_by("rank")) if sprint else []
    context = {
        "page": page,
        "page_query": query_without(request, "page"),
        "backlog_rows": backlog_rows,
        "sprint": sprint,
        "sprint_rows": sprint_rows,
        "can_plan": actor.can(Action.MANAGE_SPRINTS, project),
    }
    if sprint is not None:
        context["totals"] = totals(project, sprint, sprint_rows)
    return context


@project_view
def planning(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    actor.require(Action.VIEW, project)
    sprint = _planned(project, request.GET.get("sprint"))
    context = base_context(actor, project, **_board_context(request, actor, project, sprint))
    if sprint is not None and not request.htmx:
        context["sprint_form"] = _sprint_form(sprint)
        context["planned_sprints"] = list(
            Sprint.objects.filter(project=project, state=SprintState.PLANNED).only("number", "name")
        )
        context["active_sprint"] = Sprint.objects.filter(project=project, state=SprintState.ACTIVE).first()
    return render_page(request, "tracker/planning.html", context, fragment="tracker/partials/planning_board.html")


def _sprint_form(sprint: Sprint, data: dict | None = None) -> f.SprintForm:
    initial = {
        "version": sprint.version,
        "name": sprint.name,
        "goal": sprint.goal,
        "start_date": sprint.start_date,
        "end_date": sprint.end_date,
        "capacity": sprint.capacity,
    }
    return f.SprintForm(data, initial=initial)


@require_POST
@project_view
def sprint_new(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    actor.require(Action.MANAGE_SPRINTS, project)
    sprint = sprint_create(project=project, actor=request.user)
    return redirect(f"/{actor.workspace.slug}/{project.key}/planning/?sprint={sprint.number}")


def _sprint(project: Project, number: int, *states: str) -> Sprint:
    return get_object_or_404(Sprint.objects.select_related("project"), project=project, number=number, state__in=states)


@require_POST
@project_view
def sprint_edit(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.MANAGE_SPRINTS, project)
    sprint = _sprint(project, number, SprintState.PLANNED, SprintState.ACTIVE)
    form = _sprint_form(sprint, request.POST)
    saved = False
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            sprint = sprint_update(sprint=sprint, actor=request.user, expected_version=version, **data)
            saved = True
        except StaleVersion:
            form.add_error(None, "Someone changed this sprint meanwhile. Reload to see their version, then edit again.")
        except ValidationError as exc:
            apply_errors(form, exc)
    if saved:
        form = _sprint_form(sprint)
    context = base_context(actor, project, sprint=sprint, sprint_form=form, saved=saved, can_plan=True)
    status = 200 if saved else 422
    if request.htmx:
        response = render(request, "tracker/partials/sprint_form.html", context, status=status)
        if saved:
            response["HX-Trigger"] = "planning-changed"
        return response
    if saved:
        return redirect(f"/{actor.workspace.slug}/{project.key}/planning/?sprint={sprint.number}")
    return render(request, "tracker/partials/sprint_form.html", context, status=status)


@require_POST
@project_view
def sprint_plan(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    """Add (`add`) or remove (`remove`) items, by drag and drop or with the row buttons."""
    actor.require(Action.MANAGE_SPRINTS, project)
    sprint = _sprint(project, number, SprintState.PLANNED, SprintState.ACTIVE)
    ids = request.POST.getlist("item")
    items = list(BacklogItem.objects.in_project(project).filter(pk__in=[i for i in ids if is_uuid(i)]))
    if not items:
        return HttpResponse("Pick an item of this backlog.", status=422)
    try:
        if request.POST.get("op") == "remove":
            sprint_remove_items(sprint=sprint, items=items, actor=request.user)
        else:
            sprint_add_items(sprint=sprint, items=items, actor=request.user)
    except ValidationError as exc:
        return HttpResponse("; ".join(m for ms in exc.message_dict.values() for m in ms), status=422)
    if request.headers.get("X-Loopwise-Drag"):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "planning-changed"
        return response
    context = base_context(actor, project, **_board_context(request, actor, project, sprint))
    response = render(request, "tracker/partials/planning_board.html", context)
    response["HX-Trigger"] = "planning-changed"
    return response


@project_view
def sprint_totals(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.VIEW, project)
    sprint = _sprint(project, number, SprintState.PLANNED, SprintState.ACTIVE)
    items = list(BacklogItem.objects.in_sprint(sprint))
    context = base_context(actor, project, sprint=sprint, totals=totals(project, sprint, items))
    return render(request, "tracker/partials/planning_totals.html", context)


@require_POST
@project_view
def sprint_begin(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.MANAGE_SPRINTS, project)
    sprint = _sprint(project, number, SprintState.PLANNED)
    try:
        sprint_start(sprint=sprint, actor=request.user)
    except ValidationError as exc:
        context = base_context(actor, project, message=" ".join(exc.messages), back=request.path)
        return render(request, "tracker/error.html", context, status=422)
    return redirect(f"/{actor.workspace.slug}/{project.key}/board/")
