"""The sprint review: everything services.review.sprint_review returns, charts, exports,
and feedback captured during the review meeting."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import Action, Actor
from tracker.models import Channel, Project, Sprint, SprintState
from tracker.models.base import Segment
from tracker.services.feedback import feedback_create
from tracker.services.review import sprint_review
from tracker.web import charts
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, project_view
from tracker.web.exports import review_csv, review_json, review_markdown

EXPORTS = {
    "md": ("text/markdown; charset=utf-8", review_markdown),
    "csv": ("text/csv; charset=utf-8", review_csv),
    "json": ("application/json", review_json),
}


def _sprint(project: Project, number: int) -> Sprint:
    return get_object_or_404(
        Sprint.objects.select_related("project__workspace").exclude(state=SprintState.PLANNED),
        project=project,
        number=number,
    )


# Quotes per completed item (and waiting customers per slipped one) on the page; the
# Markdown, CSV and JSON exports have all of them.
QUOTES_ON_PAGE = 3


def _page(request: HttpRequest, actor: Actor, project: Project, sprint: Sprint, **extra: object) -> HttpResponse:
    review = sprint_review(sprint, quotes=QUOTES_ON_PAGE)
    sprints = list(
        Sprint.objects.filter(project=project).exclude(state=SprintState.PLANNED).only("number", "name", "state")
    )
    segment_labels = dict(Segment.choices) | {"unattributed": "Unattributed"}
    status = extra.pop("status", 200)
    context = base_context(
        actor,
        project,
        sprint=sprint,
        sprints=sprints,
        review=review,
        quotes_shown=QUOTES_ON_PAGE,
        segment_labels=segment_labels,
        burndown_chart=charts.burndown_chart(review["burndown"]),
        velocity_chart=charts.velocity_chart(review["velocity"]),
        mix_chart=charts.mix_chart("Segment mix: done vs target", review["segment_mix"]),
        feedback_form=extra.pop("feedback_form", None) or f.ReviewFeedbackForm(),
        can_capture=actor.can(Action.CREATE_FEEDBACK),
        **extra,
    )
    return render(request, "tracker/review.html", context, status=status)


@project_view
def review(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    # Queries: the sprint (1), sprint_review's fixed set for a live sprint (about 9; none
    # for a closed sprint, whose review is frozen in the row), the sprint switcher (1).
    actor.require(Action.VIEW, project)
    actor.require(Action.VIEW_FEEDBACK)  # the review and its exports are customer data: not for guests
    sprint = _sprint(project, number)
    export = request.GET.get("format")
    if export in EXPORTS:
        content_type, build = EXPORTS[export]
        response = HttpResponse(build(sprint_review(sprint)), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{project.key}-sprint-{sprint.number}-review.{export}"'
        return response
    return _page(request, actor, project, sprint)


@require_POST
@project_view
def review_feedback(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.VIEW, project)
    actor.require(Action.CREATE_FEEDBACK)
    sprint = _sprint(project, number)
    form = f.ReviewFeedbackForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            feedback_create(
                workspace=actor.workspace,
                actor=request.user,
                body=data["body"],
                customer_email=data["customer_email"],
                customer_name=data["customer_name"],
                channel=Channel.SPRINT_REVIEW,
                title=f"{project.key} {sprint.name} review",
                tags=["sprint-review", f"{project.key.lower()}-sprint-{sprint.number}"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(f"/{actor.workspace.slug}/{project.key}/sprints/{number}/review/?captured=1#capture")
    return _page(request, actor, project, sprint, feedback_form=form, status=422)
