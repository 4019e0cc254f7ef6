"""The feedback inbox: filter, read, and triage with the keyboard (link, create item, mark
duplicate, dismiss)."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import Action, Actor
from tracker.models import BacklogItem, Feedback, FeedbackLink, TriageState
from tracker.services.feedback import (
    feedback_create_item,
    feedback_dismiss,
    feedback_link,
    feedback_mark_duplicate,
    feedback_reopen,
)
from tracker.services.similarity import suggestions_for
from tracker.web import forms as f
from tracker.web.common import (
    apply_errors,
    base_context,
    is_uuid,
    member_view,
    paginate_capped,
    query_without,
    render_page,
)
from tracker.web.queries import feedback_search, inbox_feedback, item_search

# The inbox counts at most this many matches (CappedPaginator).
INBOX_COUNT_CAP = 500


def _filters(request: HttpRequest) -> dict:
    return {
        "params": request.GET,
        "channel_choices": f.CHANNEL_CHOICES,
        "segment_choices": f.SEGMENT_CHOICES,
        "tier_choices": f.TIER_CHOICES,
        "triage_choices": f.TRIAGE_CHOICES,
        "loop_choices": f.LOOP_CHOICES,
        "score_choices": f.SCORE_CHOICES,
        "triage_value": request.GET.get("triage", TriageState.NEW),
    }


@member_view
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: count (1) and page of feedback with customers (1); the selected entry's
    # detail (see _detail_context: feedback, links, projects).
    actor.require(Action.VIEW_FEEDBACK)
    page = paginate_capped(inbox_feedback(actor.workspace, request.GET), request, cap=INBOX_COUNT_CAP)
    context = base_context(
        actor,
        page=page,
        entries=list(page.object_list),
        page_query=query_without(request, "page"),
        can_triage=actor.can(Action.TRIAGE_FEEDBACK),
        **_filters(request),
    )
    selected = is_uuid(request.GET.get("selected", "")) and not request.htmx
    if selected:
        context.update(_detail_context(actor, _feedback(actor, request.GET["selected"])), show_detail=True)
    return render_page(request, "tracker/inbox.html", context, fragment="tracker/partials/inbox_list.html")


def _feedback(actor: Actor, pk: str) -> Feedback:
    return get_object_or_404(
        Feedback.objects.select_related("customer", "duplicate_of"), workspace=actor.workspace, pk=pk
    )


def _detail_context(actor: Actor, feedback: Feedback, **extra: object) -> dict:
    links = list(
        FeedbackLink.objects.filter(feedback=feedback, item__deleted_at__isnull=True).select_related("item__project")
    )
    projects = [p for p in actor.projects().order_by("key") if actor.can(Action.EDIT_ITEMS, p)]
    create_form = extra.pop("create_form", None) or f.CreateItemFromFeedbackForm(
        initial={
            "title": (feedback.title or feedback.body[:120]).strip(),
            "project": projects[0].key if projects else "",
        }
    )
    create_form.fields["project"].choices = [(p.key, f"{p.key} · {p.name}") for p in projects]
    suggestions = suggestions_for(feedback)
    linked = {link.item_id for link in links}
    visible = {p.pk for p in actor.projects()} if actor.is_guest else None
    suggestions["items"] = [
        s for s in suggestions["items"] if s.item_id not in linked and (visible is None or s.item.project_id in visible)
    ]
    return base_context(
        actor,
        entry=feedback,
        links=links,
        suggestions=suggestions,
        create_form=create_form,
        link_form=extra.pop("link_form", None) or f.LinkForm(),
        duplicate_form=extra.pop("duplicate_form", None) or f.DuplicateForm(),
        can_triage=actor.can(Action.TRIAGE_FEEDBACK),
        **extra,
    )


@member_view
def inbox_detail(request: HttpRequest, actor: Actor, pk: str) -> HttpResponse:
    actor.require(Action.VIEW_FEEDBACK)
    feedback = _feedback(actor, pk)
    if not request.htmx:
        return redirect(f"/{actor.workspace.slug}/inbox/?triage=all&selected={feedback.pk}")
    return render(request, "tracker/partials/inbox_detail.html", _detail_context(actor, feedback))


Outcome = tuple[str, dict]  # (message on success, or the forms/error to show again)


def _link(request: HttpRequest, actor: Actor, feedback: Feedback) -> Outcome:
    form = f.LinkForm(request.POST)
    if not form.is_valid():
        return "", {"link_form": form}
    item = get_object_or_404(
        BacklogItem.objects.select_related("project"),
        pk=form.cleaned_data["item"],
        project__in=actor.projects(),
        deleted_at__isnull=True,
    )
    try:
        feedback_link(feedback=feedback, item=item, actor=request.user, quote=form.cleaned_data["quote"])
    except ValidationError as exc:
        apply_errors(form, exc)
        return "", {"link_form": form}
    return f"Linked to {item.key}.", {}


def _create(request: HttpRequest, actor: Actor, feedback: Feedback) -> Outcome:
    form = f.CreateItemFromFeedbackForm(request.POST)
    projects = {p.key: p for p in actor.projects()}
    form.fields["project"].choices = [(k, k) for k in projects]
    if not form.is_valid():
        return "", {"create_form": form}
    project = projects[form.cleaned_data["project"]]
    actor.require(Action.EDIT_ITEMS, project)
    try:
        item = feedback_create_item(
            feedback=feedback,
            project=project,
            actor=request.user,
            title=form.cleaned_data["title"],
            kind=form.cleaned_data["kind"],
            quote=form.cleaned_data["quote"],
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return "", {"create_form": form}
    return f"Created {project.key}-{item.number} and linked it.", {}


def _duplicate(request: HttpRequest, actor: Actor, feedback: Feedback) -> Outcome:
    form = f.DuplicateForm(request.POST)
    if not form.is_valid():
        return "", {"duplicate_form": form}
    original = _feedback(actor, str(form.cleaned_data["original"]))
    try:
        feedback_mark_duplicate(feedback=feedback, original=original, actor=request.user)
    except ValidationError as exc:
        apply_errors(form, exc)
        return "", {"duplicate_form": form}
    return "Marked as a duplicate; its links moved to the original.", {}


def _dismiss(request: HttpRequest, actor: Actor, feedback: Feedback) -> Outcome:
    feedback_dismiss(feedback=feedback, actor=request.user)
    return "Dismissed.", {}


def _reopen(request: HttpRequest, actor: Actor, feedback: Feedback) -> Outcome:
    feedback_reopen(feedback=feedback, actor=request.user)
    return "Back in triage.", {}


ACTIONS = {"link": _link, "create": _create, "duplicate": _duplicate, "dismiss": _dismiss, "reopen": _reopen}


@require_POST
@member_view
def inbox_action(request: HttpRequest, actor: Actor, pk: str, action: str) -> HttpResponse:
    """One triage action; answers the re-rendered detail plus the list row (out of band)."""
    actor.require(Action.TRIAGE_FEEDBACK)
    handler = ACTIONS.get(action)
    if handler is None:
        return HttpResponse(status=404)
    message, shown = handler(request, actor, _feedback(actor, pk))
    feedback = _feedback(actor, pk)  # re-read: the action changed its triage and loop state
    if not request.htmx:
        return redirect(f"/{actor.workspace.slug}/inbox/?triage=all&selected={feedback.pk}")
    context = _detail_context(actor, feedback, message=message, **shown)
    return render(
        request, "tracker/partials/inbox_detail.html", {**context, "oob_row": True}, status=200 if message else 422
    )


@member_view
def inbox_item_search(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require(Action.VIEW_FEEDBACK)
    items = item_search(actor.projects(), request.GET.get("q", ""))
    return render(request, "tracker/partials/item_picker.html", base_context(actor, results=items))


@member_view
def inbox_feedback_search(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require(Action.VIEW_FEEDBACK)
    exclude = request.GET.get("exclude", "")
    found = feedback_search(actor.workspace, request.GET.get("q", ""), exclude=exclude if is_uuid(exclude) else None)
    return render(request, "tracker/partials/feedback_picker.html", base_context(actor, results=found))
