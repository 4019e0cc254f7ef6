"""Triage: accept, dismiss, reopen, mark a duplicate (its links move to the original)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tracker.models import Feedback, FeedbackLink, TriageState
from tracker.services.errors import BatchInvalid, ValidationError

from .links import links_write
from .write import FeedbackUpdate, feedback_write


def _set_triage(feedback: Feedback, actor: AbstractBaseUser | None, state: TriageState) -> Feedback:
    fields = {"triage": state}
    if state != TriageState.DUPLICATE:
        fields["duplicate_of"] = None
    try:
        ((_, written, _),) = feedback_write(
            workspace=feedback.workspace, actor=actor, updates=[FeedbackUpdate(0, feedback.pk, fields)]
        )
    except BatchInvalid as exc:
        raise exc.first() from None
    return written


def feedback_accept(*, feedback: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    return _set_triage(feedback, actor, TriageState.ACCEPTED)


def feedback_dismiss(*, feedback: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    return _set_triage(feedback, actor, TriageState.DISMISSED)


def feedback_reopen(*, feedback: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    return _set_triage(feedback, actor, TriageState.NEW)


@transaction.atomic
def feedback_mark_duplicate(*, feedback: Feedback, original: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    """Mark `feedback` a duplicate of `original`; its links move to the survivor.

    A chain is never built: marking against a duplicate points at that one's original, and
    the duplicates of this one follow it to the survivor.
    """
    if original.workspace_id != feedback.workspace_id:
        raise ValidationError({"duplicate_of": "That feedback belongs to another workspace."})
    while original.duplicate_of_id is not None:
        original = Feedback.objects.get(pk=original.duplicate_of_id)
    if original.pk == feedback.pk:
        raise ValidationError({"duplicate_of": "Feedback cannot be a duplicate of itself."})
    workspace = feedback.workspace
    moving = list(FeedbackLink.objects.filter(feedback=feedback).select_related("item__project"))
    kept = set(FeedbackLink.objects.filter(feedback=original).values_list("item_id", flat=True))
    if moving:
        links_write(
            workspace=workspace,
            actor=actor,
            deletes=[(feedback, link.item) for link in moving],
            creates=[(original, link.item, link.quote) for link in moving if link.item_id not in kept],
        )
    followers = list(Feedback.objects.filter(duplicate_of=feedback).values_list("pk", flat=True))
    updates = [FeedbackUpdate(0, feedback.pk, {"triage": TriageState.DUPLICATE, "duplicate_of": original.pk})]
    updates += [FeedbackUpdate(i + 1, pk, {"duplicate_of": original.pk}) for i, pk in enumerate(followers)]
    original.refresh_from_db(fields=["triage"])
    if original.triage == TriageState.NEW:
        updates.append(FeedbackUpdate(len(updates), original.pk, {"triage": TriageState.ACCEPTED}))
    try:
        results = feedback_write(workspace=workspace, actor=actor, updates=updates)
    except BatchInvalid as exc:
        raise exc.first() from None
    from .write import feedback_refresh_loop_state

    feedback_refresh_loop_state([feedback.pk, original.pk])
    marked = results[0][1]
    marked.refresh_from_db()
    return marked
