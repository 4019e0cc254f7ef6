"""The write core of feedback links: linking feedback to items (with the quote it answers)
and unlinking, one or many at once, from the inbox, the API, the by-external upsert, a
duplicate merge or the seed.

A link's write records History on both ends, moves the feedback out of "new" triage,
refreshes the feedback's loop state and the item's impact, and appends the link (and the
items and feedback it changed) to the change feed. Removed links are tombstones in the feed.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tracker.feed.record import ChangeRow, changes_record
from tracker.models import (
    BacklogItem,
    ChangeKind,
    ChangeOp,
    Feedback,
    FeedbackLink,
    History,
    HistoryAction,
    Project,
    TriageState,
    Workspace,
)
from tracker.services.bulk import bulk_set, rows_insert
from tracker.services.errors import BatchInvalid, ValidationError
from tracker.services.history import history_entries

from .write import FeedbackUpdate, feedback_refresh_loop_state, feedback_write, lock_feedback

MAX_QUOTE = 2000


def _lock(items: Sequence[BacklogItem], feedback: Sequence[Feedback]) -> dict[str, Feedback]:
    """Projects, then items, then feedback: the order every write of them takes."""
    from tracker.services.backlog import lock_items

    project_ids = {i.project_id for i in items}
    list(Project.objects.select_for_update().filter(pk__in=project_ids).order_by("pk").values_list("pk"))
    lock_items(i.pk for i in items)
    return lock_feedback(f.pk for f in feedback)


def _link_data(link: FeedbackLink, item: BacklogItem) -> dict[str, Any]:
    return {
        "feedback": str(link.feedback_id),
        "item_id": str(link.item_id),
        "item": f"{item.project.key}-{item.number}",
        "quote": "",
    }


@transaction.atomic
def links_write(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    creates: Sequence[tuple[Feedback, BacklogItem, str]] = (),
    deletes: Sequence[tuple[Feedback, BacklogItem]] = (),
    at: datetime | None = None,
) -> list[FeedbackLink]:
    """Link (feedback, item, quote) and unlink (feedback, item) pairs, all or nothing.

    Linking an existing pair again updates its quote (when a new one is given). Unlinking
    a pair that is not linked is an error. Returns the links of `creates`, in order.
    """
    at = at or timezone.now()
    errors: dict[int, dict[str, list[str]]] = {}
    for index, (feedback, item, quote) in enumerate(creates):
        if item.project.workspace_id != workspace.pk or feedback.workspace_id != workspace.pk:
            errors[index] = {"item": ["Feedback can only be linked to items of its own workspace."]}
        elif item.deleted_at is not None:
            errors[index] = {"item": [f"{item.key} was deleted."]}
        elif len((quote or "").strip()) > MAX_QUOTE:
            errors[index] = {"quote": ["Keep the quote under 2,000 characters."]}
    if errors:
        raise BatchInvalid(errors)
    items = [i for _, i, _ in creates] + [i for _, i in deletes]
    locked = _lock(items, [f for f, _, _ in creates] + [f for f, _ in deletes])
    for index, (feedback, _item, _quote) in enumerate(creates):
        if locked[str(feedback.pk)].triage == TriageState.DUPLICATE:
            errors[index] = {"feedback": ["Link the original feedback, not its duplicate."]}
    if errors:
        raise BatchInvalid(errors)
    pairs = {(str(f.pk), str(i.pk)) for f, i, _ in creates} | {(str(f.pk), str(i.pk)) for f, i in deletes}
    existing = {
        (str(link.feedback_id), str(link.item_id)): link
        for link in FeedbackLink.objects.filter(
            feedback_id__in={f for f, _ in pairs}, item_id__in={i for _, i in pairs}
        )
        if (str(link.feedback_id), str(link.item_id)) in pairs
    }
    for index, (feedback, item) in enumerate(deletes):
        if (str(feedback.pk), str(item.pk)) not in existing:
            errors[len(creates) + index] = {"item": [f"This feedback is not linked to {item.key}."]}
    if errors:
        raise BatchInvalid(errors)

    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    new: list[tuple[FeedbackLink, BacklogItem]] = []
    requoted: list[tuple[FeedbackLink, BacklogItem]] = []
    out: list[FeedbackLink] = []
    seen: dict[tuple[str, str], FeedbackLink] = {}
    for feedback, item, quote in creates:
        key = (str(feedback.pk), str(item.pk))
        quote = (quote or "").strip()
        link = seen.get(key) or existing.get(key)
        if link is not None:
            if quote and link.quote != quote and key not in seen:
                link.quote = quote
                requoted.append((link, item))
            out.append(link)
            continue
        link = FeedbackLink(
            feedback_id=feedback.pk,
            item_id=item.pk,
            workspace_id=workspace.pk,
            quote=quote,
            linked_by_id=actor_id,
            created_at=at,
            updated_at=at,
        )
        seen[key] = link
        new.append((link, item))
        out.append(link)
    removed = [(existing[(str(f.pk), str(i.pk))], i) for f, i in deletes]
    links_save(workspace_id=workspace.pk, actor=actor, created=new, requoted=requoted, removed=removed, at=at)

    touched_feedback = {str(f.pk) for f, _, _ in creates} | {str(f.pk) for f, _ in deletes}
    if new or removed:
        accept = [pk for pk in {str(link.feedback_id) for link, _ in new} if locked[pk].triage == TriageState.NEW]
        if accept:
            feedback_write(
                workspace=workspace,
                actor=actor,
                updates=[
                    FeedbackUpdate(i, pk, {"triage": TriageState.ACCEPTED}) for i, pk in enumerate(sorted(accept))
                ],
                at=at,
            )
        feedback_refresh_loop_state(touched_feedback, at=at)
        from tracker.services.backlog import items_refresh_impact

        items_refresh_impact({str(i.pk) for i in items})
    return out


def links_save(
    *,
    workspace_id: Any,
    actor: AbstractBaseUser | None,
    created: Sequence[tuple[FeedbackLink, BacklogItem]] = (),
    requoted: Sequence[tuple[FeedbackLink, BacklogItem]] = (),
    removed: Sequence[tuple[FeedbackLink, BacklogItem]] = (),
    at: datetime | None = None,
) -> None:
    """Write new links, links with a new quote and removed links (each with its item, its
    project loaded), with History on both ends and the change feed. The caller holds the
    locks and refreshes what the links move (triage, loop state, impact)."""
    at = at or timezone.now()
    history: list[History] = []
    feed: list[ChangeRow] = []

    def both_ends(link: FeedbackLink, item: BacklogItem, action: HistoryAction, when: datetime) -> list[History]:
        key = f"{item.project.key}-{item.number}"
        linked = action == HistoryAction.LINKED
        return [
            *history_entries(
                workspace_id=workspace_id,
                feedback_id=link.feedback_id,
                actor=actor,
                action=action,
                changes={"item": (None, key) if linked else (key, None)},
                at=when,
            ),
            *history_entries(
                workspace_id=workspace_id,
                project_id=item.project_id,
                item_id=item.pk,
                actor=actor,
                action=action,
                changes={"feedback": (None, str(link.feedback_id)) if linked else (str(link.feedback_id), None)},
                at=when,
            ),
        ]

    for link, item in created:
        history += both_ends(link, item, HistoryAction.LINKED, min(link.created_at or at, at))
        feed.append(
            ChangeRow(
                ChangeKind.LINK, link.pk, ChangeOp.CREATE, workspace_id, link.version, None, _link_data(link, item)
            )
        )
    for link, item in requoted:
        link.version += 1
        link.updated_at = at
        feed.append(
            ChangeRow(
                ChangeKind.LINK,
                link.pk,
                ChangeOp.UPDATE,
                workspace_id,
                link.version,
                ("quote",),
                _link_data(link, item),
            )
        )
    for link, item in removed:
        history += both_ends(link, item, HistoryAction.UNLINKED, at)
        feed.append(
            ChangeRow(
                ChangeKind.LINK, link.pk, ChangeOp.DELETE, workspace_id, link.version + 1, None, _link_data(link, item)
            )
        )
    if removed:
        FeedbackLink.objects.filter(pk__in=[link.pk for link, _ in removed]).delete()
    rows_insert(FeedbackLink, [link for link, _ in created])
    if requoted:
        bulk_set(FeedbackLink, [link for link, _ in requoted], ["quote", "version", "updated_at"])
    if history:
        rows_insert(History, history)
    changes_record(workspace_id=workspace_id, rows=feed, at=at)


def feedback_link(
    *, feedback: Feedback, item: BacklogItem, actor: AbstractBaseUser | None, quote: str = ""
) -> FeedbackLink:
    """Link feedback to an item with the quote it answers. Linking again updates the quote."""
    try:
        (link,) = links_write(workspace=feedback.workspace, actor=actor, creates=[(feedback, item, quote)])
    except BatchInvalid as exc:
        raise exc.first() from None
    return link


def feedback_unlink(*, feedback: Feedback, item: BacklogItem, actor: AbstractBaseUser | None) -> None:
    try:
        links_write(workspace=feedback.workspace, actor=actor, deletes=[(feedback, item)])
    except BatchInvalid as exc:
        raise exc.first() from None


__all__ = ["MAX_QUOTE", "ValidationError", "feedback_link", "feedback_unlink", "links_save", "links_write"]
