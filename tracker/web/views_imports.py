"""Imports: upload a feedback or backlog file, check its preview, start it, follow its
progress, read its report."""

import codecs
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django_htmx.http import HttpResponseClientRefresh

from tracker.access import Action, Actor, import_right
from tracker.models import ImportJob, ImportKind, ImportStatus, Project
from tracker.services.imports import (
    import_confirm,
    import_discard,
    import_preview,
    import_revive,
    import_start,
    job_report,
)
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, member_view, render_page

RECENT = 20
UTF8 = frozenset({"utf-8", "utf-8-sig"})
# The first pass's status categories (services.import_backlog), as Jira names them.
CATEGORY_LABELS = {"todo": "To do", "in_progress": "In progress", "done": "Done"}
# Feedback fields a file's columns are read into (services.import_feedback), as people say them.
FIELD_LABELS = {
    "body": "Text",
    "title": "Title",
    "email": "E-mail",
    "customer_name": "Customer name",
    "customer_external_id": "Customer id",
    "nps": "NPS",
    "csat": "CSAT",
    "ces": "Customer effort (CES)",
    "received_at": "Received",
    "channel": "Channel",
    "external_id": "Id (matches rows on a new import)",
    "tags": "Tags",
}


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


def _encoding_label(encoding: str) -> str:
    """An encoding as people know it: cp1252 → Windows-1252, iso8859-15 → ISO-8859-15."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    if name.startswith("cp125"):
        return f"Windows-{name[2:]}"
    if name.startswith("iso8859-"):
        return f"ISO-8859-{name[8:]}"
    if name.startswith("utf-16"):
        return "UTF-16"
    if name.startswith("mac-"):
        return "Mac " + name[4:].capitalize()
    return name.upper()


@member_view
def imports(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: project roles are on the actor; visible projects (1), recent jobs with their
    # project (1). A POST adds the service's writes (and its first pass over the file).
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
                    preview=True,  # the job page shows what the import will do; Import starts it
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
    actor.require(Action.VIEW_FEEDBACK)
    job = get_object_or_404(_visible_jobs(actor).select_related("project"), pk=pk)
    if request.method != "POST":
        return _job_page(request, actor, job)
    # Import (with the chosen status mapping) or Cancel, from the preview.
    actor.require(*import_right(job))
    if request.POST.get("action") == "cancel":
        if import_discard(job):
            return redirect("imports", ws=actor.workspace.slug)
        return redirect("import_job", ws=actor.workspace.slug, pk=job.pk)  # it started meanwhile
    preview = import_preview(job)
    if job.status != ImportStatus.PREVIEW or not preview:
        return redirect("import_job", ws=actor.workspace.slug, pk=job.pk)  # started in another tab
    form = f.ImportStatusesForm(preview["statuses"], request.POST)
    if form.is_valid():
        try:
            import_confirm(job, statuses=form.mapping())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("import_job", ws=actor.workspace.slug, pk=job.pk)
    return _job_page(request, actor, job, statuses_form=form, status=422)


def _job_page(
    request: HttpRequest,
    actor: Actor,
    job: ImportJob,
    *,
    statuses_form: f.ImportStatusesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    # Queries: the job with its project (1; its report is read from this row). While the job
    # runs the progress fragment polls this view and stops once it is done or failed. A
    # preview, or a file found broken before it started, also asks who may start or cancel
    # it: the actor's project roles (1).
    import_revive(job)  # embedded mode: a job whose thread died with an earlier process resumes
    report = job_report(job)
    state = report["status"]
    preview = report["preview"] if state == ImportStatus.PREVIEW else None
    broken = (report["preview"] or {}).get("broken") if state == ImportStatus.FAILED else None
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and (preview or broken) and request.method == "GET":
        # The progress fragment was polling while the file was read: the preview is a
        # whole page of its own.
        return HttpResponseClientRefresh()
    if preview and statuses_form is None:
        statuses_form = f.ImportStatusesForm(preview["statuses"])
    unstarted = state == ImportStatus.PREVIEW or (state == ImportStatus.FAILED and job.started_at is None)
    context = base_context(
        actor,
        job=job,
        report=report,
        preview=preview,
        broken=broken,
        statuses_form=statuses_form,
        can_start=unstarted and actor.can(*import_right(job)),
        encoding=_encoding_label(job.encoding),
        utf8=job.encoding in UTF8,
        category_labels=CATEGORY_LABELS,
        field_labels=FIELD_LABELS,
        running=state in (ImportStatus.QUEUED, ImportStatus.RUNNING) or report["reading"],
        reading=report["reading"],
        percent=round((report["progress"] or 0) * 100),
    )
    return render_page(
        request, "tracker/import.html", context, fragment="tracker/partials/import_progress.html", status=status
    )
