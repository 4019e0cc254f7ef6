"""The board of the active sprint: columns by status, burndown, and closing the sprint."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tracker.access import Action, Actor
from tracker.models import BacklogItem, ItemStatus, Project, Sprint, SprintState
from tracker.services.metrics import burndown, sprint_points
from tracker.services.notifications import notification_preview
from tracker.services.sprints import sprint_active, sprint_close
from tracker.web import charts
from tracker.web import forms as f
from tracker.web.common import base_context, project_view

COLUMNS = (ItemStatus.BACKLOG, ItemStatus.READY, ItemStatus.IN_PROGRESS, ItemStatus.IN_REVIEW, ItemStatus.DONE)


def _close_form(project: Project, data: dict | None = None) -> f.CloseSprintForm:
    form = f.CloseSprintForm(data)
    planned = Sprint.objects.filter(project=project, state=SprintState.PLANNED).order_by("number")
    form.fields["carry_over_to"].choices = [("", "Back to the backlog")] + [
        (str(s.number), f"Next sprint: {s.name}") for s in planned
    ]
    return form


@project_view
def board(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    # Queries: active sprint (1); its items with assignees (1); burndown
    # history (1); planned sprints for the close dialog (1); the digests closing would send
    # (notification_preview: sprint, done items, links, their other items, digests sent: 5).
    actor.require(Action.VIEW, project)
    sprint = sprint_active(project)
    context = base_context(actor, project, sprint=sprint, can_edit=actor.can(Action.EDIT_ITEMS, project))
    if sprint is not None:
        items = list(BacklogItem.objects.in_sprint(sprint).select_related("assignee").order_by("rank"))
        columns = [
            {"status": s, "label": ItemStatus(s).label, "items": [i for i in items if i.status == s]} for s in COLUMNS
        ]
        wont = [i for i in items if i.status == ItemStatus.WONT_DO]
        burn = burndown(sprint, items=items)
        done_points = sprint_points(i for i in items if i.status == ItemStatus.DONE)
        context.update(
            columns=columns,
            wont_do=wont,
            burndown_chart=charts.burndown_chart(burn, title=f"Burndown · {sprint.name}", width=720, height=200),
            days_left=max(0, (sprint.end_date - timezone.localdate()).days),
            points=sprint_points(items),
            done_points=done_points,
            can_close=actor.can(Action.MANAGE_SPRINTS, project),
        )
        if context["can_close"]:
            context["close_form"] = _close_form(project)
            context["preview"] = notification_preview(sprint)
            context["unfinished"] = [i for i in items if not i.is_finished]
    return render(request, "tracker/board.html", context)


@require_POST
@project_view
def sprint_finish(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.MANAGE_SPRINTS, project)
    sprint = get_object_or_404(Sprint.objects.select_related("project"), project=project, number=number)
    form = _close_form(project, request.POST)
    target = None
    if form.is_valid() and form.cleaned_data["carry_over_to"]:
        target = Sprint.objects.filter(project=project, number=int(form.cleaned_data["carry_over_to"])).first()
    try:
        sprint_close(sprint=sprint, actor=request.user, carry_over_to=target)
    except ValidationError as exc:
        context = base_context(
            actor, project, message=" ".join(exc.messages), back=f"/{actor.workspace.slug}/{project.key}/board/"
        )
        return render(request, "tracker/error.html", context, status=422)
    return redirect(f"/{actor.workspace.slug}/{project.key}/sprints/{sprint.number}/review/")
