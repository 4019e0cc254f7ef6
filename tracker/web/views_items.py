"""The item page: description, acceptance criteria, linked feedback, impact breakdown,
history and comments; editing with stale-version protection."""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import Action, Actor
from tracker.models import BacklogItem, Comment, FeedbackLink, History, ItemKind, Project, ProjectMembership
from tracker.services.backlog import item_update
from tracker.services.comments import comment_create
from tracker.services.errors import StaleVersion
from tracker.services.metrics import DETRACTOR_SEVERITY, REPEAT_ASK_WEIGHT, item_impacts
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, project_view
from tracker.web.markup import render_markdown

HISTORY_LIMIT = 100


def _item(project: Project, number: int) -> BacklogItem:
    # Whether it has sub-tasks rides along, so the page lists them only when there are any
    # (most items have none: no query for them).
    subtasks = BacklogItem.objects.live().filter(parent=OuterRef("pk"))
    return get_object_or_404(
        BacklogItem.objects.in_project(project)
        .select_related("epic", "sprint", "assignee", "parent")
        .annotate(has_subtasks=Exists(subtasks)),
        number=number,
    )


def _edit_form(project: Project, item: BacklogItem, labels: list[str], data: dict | None = None) -> f.ItemEditForm:
    """The edit form with the project's epics and members as choices (two queries)."""
    initial = {
        "version": item.version,
        "title": item.title,
        "kind": item.kind,
        "status": item.status,
        "priority": item.priority,
        "estimate": "" if item.estimate is None else f"{item.estimate.normalize():f}",
        "labels": ", ".join(labels),
        "description": item.description,
        "acceptance_criteria": item.acceptance_criteria,
        "epic": str(item.epic.number) if item.epic else "",
        "assignee": str(item.assignee_id or ""),
    }
    form = f.ItemEditForm(data, initial=initial)
    form.epics = {
        str(e.number): e
        for e in BacklogItem.objects.in_project(project).filter(kind=ItemKind.EPIC).exclude(pk=item.pk).order_by("rank")
    }
    form.members = {
        str(m.user_id): m.user for m in ProjectMembership.objects.filter(project=project).select_related("user")
    }
    form.fields["epic"].choices = [("", "No epic")] + [
        (n, f"{project.key}-{n} {e.title}") for n, e in form.epics.items()
    ]
    form.fields["assignee"].choices = [("", "Nobody")] + sorted(
        ((pk, u.get_full_name() or u.get_username()) for pk, u in form.members.items()), key=lambda c: c[1]
    )
    return form


def _page(request: HttpRequest, actor: Actor, project: Project, item: BacklogItem, **extra: object) -> HttpResponse:
    # Queries: labels (1), links with feedback and customers (1), impact (2: links, item),
    # history with actors (1), comments with authors (1), objectives (1); its sub-tasks (1)
    # when it has any.
    labels = list(item.labels.values_list("name", flat=True))
    # Guests see the work, never the customers behind it (names, quotes, scores).
    can_see_feedback = actor.can(Action.VIEW_FEEDBACK)
    links = (
        list(
            FeedbackLink.objects.filter(item=item)
            .select_related("feedback__customer", "linked_by")
            .order_by("-created_at")
        )
        if can_see_feedback
        else []
    )
    impact = item_impacts([item.pk], workspace=actor.workspace)[item.pk]
    history = list(History.objects.filter(item=item).select_related("actor").order_by("-at", "-id")[:HISTORY_LIMIT])
    comments = list(Comment.objects.filter(item=item).select_related("author"))
    subtasks = (
        list(item.subtasks.live().ranked().only("number", "title", "status", "parent")) if item.has_subtasks else []
    )
    status = extra.pop("status", 200)
    can_edit = actor.can(Action.EDIT_ITEMS, project)
    context = base_context(
        actor,
        project,
        item=item,
        labels=labels,
        links=links,
        impact=impact,
        detractor_severity=DETRACTOR_SEVERITY,
        repeat_weight=REPEAT_ASK_WEIGHT,
        history=history,
        comments=comments,
        objectives=list(item.objectives.all()),
        subtasks=subtasks,
        description_html=render_markdown(item.description),
        criteria_html=render_markdown(item.acceptance_criteria),
        edit_form=extra.pop("edit_form", None) or (_edit_form(project, item, labels) if can_edit else None),
        comment_form=extra.pop("comment_form", None) or f.CommentForm(),
        can_edit=can_edit,
        can_comment=actor.can(Action.COMMENT, project),
        can_see_feedback=can_see_feedback,
        **extra,
    )
    return render(request, "tracker/item.html", context, status=status)


@project_view
def item_detail(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.VIEW, project)
    return _page(request, actor, project, _item(project, number))


@require_POST
@project_view
def item_edit(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.EDIT_ITEMS, project)
    item = _item(project, number)
    labels = list(item.labels.values_list("name", flat=True))
    form = _edit_form(project, item, labels, request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        data["epic"] = form.epics.get(data["epic"])
        data["assignee"] = form.members.get(data["assignee"])
        new_labels = [n.strip() for n in data.pop("labels").split(",") if n.strip()]
        data["estimate"] = data["estimate"] or None
        try:
            item_update(item=item, actor=request.user, expected_version=version, labels=new_labels, **data)
        except StaleVersion as exc:
            form.add_error(
                None,
                f"Someone else changed {project.key}-{number} while you were editing (now version "
                f"{exc.current_version}). Nothing was saved: reload to see their changes, then edit again.",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(f"/{actor.workspace.slug}/{project.key}/items/{number}/")
    return _page(request, actor, project, item, edit_form=form, editing=True, status=422)


@require_POST
@project_view
def item_comment(request: HttpRequest, actor: Actor, project: Project, number: int) -> HttpResponse:
    actor.require(Action.COMMENT, project)
    item = _item(project, number)
    form = f.CommentForm(request.POST)
    if form.is_valid():
        try:
            comment_create(item=item, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(f"/{actor.workspace.slug}/{project.key}/items/{number}/#comments")
    return _page(request, actor, project, item, comment_form=form, status=422)
