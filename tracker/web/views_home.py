"""Login, logout, the root redirect and the workspace home."""

from django.contrib.auth import views as auth_views
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tracker.access import Action, Actor, workspaces_of
from tracker.models import FINISHED_STATUSES, Feedback, Sprint, SprintState, TriageState
from tracker.web.common import base_context, member_view

LATEST = 6


class LoginView(auth_views.LoginView):
    template_name = "tracker/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def root(request: HttpRequest) -> HttpResponse:
    """A member goes to their first workspace; anyone else to the login page."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    first = workspaces_of(request.user).only("slug").first()
    if first is None:
        return render(request, "tracker/no_workspace.html")
    return redirect("web:workspace", ws=first.slug)


@member_view
def workspace_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: projects with open-item counts and last review (1), their active/planned
    # sprints (1), new feedback count (1), latest new feedback (1).
    unfinished = ~Q(items__status__in=FINISHED_STATUSES) & Q(items__deleted_at__isnull=True)
    last_closed = Sprint.objects.filter(project=OuterRef("pk"), state=SprintState.CLOSED).order_by("-number")
    projects = list(
        actor.projects()
        .annotate(
            open_items=Count("items", filter=unfinished),
            last_review=Subquery(last_closed.values("number")[:1]),
            last_review_name=Subquery(last_closed.values("name")[:1]),
        )
        .order_by("key")
    )
    sprints = Sprint.objects.filter(project__in=[p.pk for p in projects]).exclude(state=SprintState.CLOSED)
    by_project: dict = {}
    for sprint in sprints.order_by("number"):
        by_project.setdefault(sprint.project_id, {}).setdefault(sprint.state, sprint)
    for project in projects:
        project.active_sprint = by_project.get(project.pk, {}).get(SprintState.ACTIVE)
        project.planned_sprint = by_project.get(project.pk, {}).get(SprintState.PLANNED)
    new_feedback, latest = None, []
    if actor.can(Action.VIEW_FEEDBACK):
        waiting = Feedback.objects.in_workspace(actor.workspace).filter(triage=TriageState.NEW)
        new_feedback = waiting.count()
        latest = list(waiting.select_related("customer").order_by("-received_at")[:LATEST])
    context = base_context(actor, projects=projects, new_feedback=new_feedback, latest=latest)
    return render(request, "tracker/workspace.html", context)
