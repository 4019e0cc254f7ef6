"""Imports: upload a feedback or backlog file, follow its progress, read its report."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from tracker.access import Action, Actor
from tracker.models import ImportJob, ImportKind, ImportStatus, Project
from tracker.services.imports import import_start, import_status
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, member_view, render_page

RECENT = 20


def _backlog_projects(actor: Actor) -> list[Project]:
    return [p for p in actor.projects().order_by("key") if actor.can(Action.EDIT_ITEMS, p)]


def _visible_jobs(actor: Actor) -> Any:
    """Feedback imports, and backlog imports into projects the actor may see."""
    return ImportJob.objects.filter(workspace=actor.workspace).filter(
        Q(kind=ImportKind.FEEDBACK) | Q(project__in=actor.projects())
    )


def _form(actor: Actor, projects: list[Project], data: Any = None, files: Any = None) -> f.ImportForm:
    form = f.ImportForm(data, files)
    form.fields["project"].choices = [("", "—")] + [(p.key, f"{p.key} · {p.name}") for p in projects]
    if not actor.can(Action.TRIAGE_FEEDBACK):
        form.fields["kind"].choices = [c for c in form.fields["kind"].choices if c[0] != ImportKind.FEEDBACK]
        form.fields["kind"].initial = ImportKind.BACKLOG
    if not projects:
        form.fields["kind"].choices = [c for c in form.fields["kind"].choices if c[0] != ImportKind.BACKLOG]
    return form


@member_view
def imports(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: project roles are on the actor; visible projects (1), recent jobs with their
    # project (1). A POST adds the service's writes.
    actor.require(Action.VIEW_FEEDBACK)
    projects = _backlog_projects(actor)
    can_import = actor.can(Action.TRIAGE_FEEDBACK) or bool(projects)
    status = 200
    if request.method == "POST":
        if request.POST.get("kind") == ImportKind.BACKLOG:
            key = request.POST.get("project", "")
            if key:
                actor.require(Action.EDIT_ITEMS, actor.project(key))
            elif not projects:
                raise PermissionDenied("Your role does not allow importing a backlog.")
        else:
            actor.require(Action.TRIAGE_FEEDBACK)
        form = _form(actor, projects, request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            project = next((p for p in projects if p.key == data["project"]), None)
            upload = data["file"]
            try:
                job = import_start(
                    workspace=actor.workspace,
                    actor=request.user,
                    kind=data["kind"],
                    filename=upload.name,
                    data=upload,
                    project=project if data["kind"] == ImportKind.BACKLOG else None,
                    source=data["source"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect("import_job", ws=actor.workspace.slug, pk=job.pk)
        status = 422
    else:
        form = _form(actor, projects)
    jobs = list(_visible_jobs(actor).select_related("project", "created_by")[:RECENT])
    context = base_context(actor, form=form, jobs=jobs, can_import=can_import)
    return render_page(request, "tracker/imports.html", context, status=status)


@member_view
def import_detail(request: HttpRequest, actor: Actor, pk: str) -> HttpResponse:
    # Queries: the job with its project (1) and its fresh status (1). While the job runs the
    # progress fragment polls this view and stops once it is done or failed.
    actor.require(Action.VIEW_FEEDBACK)
    job = get_object_or_404(_visible_jobs(actor).select_related("project"), pk=pk)
    report = import_status(job)
    context = base_context(
        actor,
        job=job,
        report=report,
        running=report["status"] in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        percent=round((report["progress"] or 0) * 100),
    )
    return render_page(request, "tracker/import.html", context, fragment="tracker/partials/import_progress.html")
