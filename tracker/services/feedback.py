"""Feedback: intake (with customer lookup), triage, links to items, and the loop state."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    Channel,
    Customer,
    Feedback,
    FeedbackLink,
    HistoryAction,
    ItemKind,
    ItemStatus,
    LoopState,
    Project,
    Segment,
    SprintState,
    Tier,
    Tombstone,
    TriageState,
    Workspace,
)
from tracker.services.dispatch import dispatch
from tracker.services.errors import ValidationError, check_version
from tracker.services.history import history_entries, history_record, history_record_many
from tracker.services.webhooks import event_record, events_record, feedback_data

SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


# --- Customers ----------------------------------------------------------------------------


def customer_resolve(
    *,
    workspace: Workspace,
    email: str = "",
    name: str = "",
    source: str = "",
    external_id: str = "",
    segment: str | None = None,
    tier: str | None = None,
) -> Customer | None:
    """Find the customer by external id or e-mail, or create one. None when nothing identifies them."""
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError({"email": "Enter a valid e-mail address."}) from exc
    if segment is not None and segment not in Segment.values:
        raise ValidationError({"segment": f"Segment must be one of {', '.join(Segment.values)}."})
    if tier is not None and tier not in Tier.values:
        raise ValidationError({"tier": f"Tier must be one of {', '.join(Tier.values)}."})
    customer = None
    if external_id:
        customer = Customer.objects.filter(workspace=workspace, source=source, external_id=external_id).first()
    if customer is None and email:
        customer = Customer.objects.filter(workspace=workspace, email__iexact=email).order_by("created_at").first()
    if customer is not None:
        return customer
    if not (email or external_id or name):
        return None
    return Customer.objects.create(
        workspace=workspace,
        name=(name or email.split("@")[0] or external_id)[:200],
        email=email,
        source=source if external_id else "",
        external_id=external_id,
        segment=segment or Segment.END_CUSTOMER,
        tier=tier or Tier.STANDARD,
    )


# --- Intake ------------------------------------------------------------------------------


CHANNELS = frozenset(Channel.values)  # checked per entry of a bulk upsert; .values is a new list each time


def validate_feedback_fields(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned = dict(fields)
    if "body" in fields:
        body = (fields["body"] or "").strip()
        if not body:
            errors["body"] = "Say what the customer said: the text is required."
        elif len(body) > 20000:
            errors["body"] = "Keep feedback under 20,000 characters."
        cleaned["body"] = body
    if "title" in fields:
        cleaned["title"] = (fields["title"] or "").strip()[:200]
    if "channel" in fields and fields["channel"] not in CHANNELS:
        errors["channel"] = f"Channel must be one of {', '.join(Channel.values)}."
    for name, (low, high) in SCORE_RANGES.items():
        value = fields.get(name)
        if value is None or value == "":
            if name in fields:
                cleaned[name] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = f"{name.upper()} must be a whole number from {low} to {high}."
            continue
        if isinstance(value, float) and not value.is_integer():
            errors[name] = f"{name.upper()} must be a whole number from {low} to {high}."
        elif not low <= number <= high:
            errors[name] = f"{name.upper()} must be between {low} and {high}."
        cleaned[name] = number
    if "tags" in fields:
        tags = fields["tags"] or []
        if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
            errors["tags"] = "Tags must be a list of words."
        else:
            cleaned["tags"] = sorted({t.strip()[:40] for t in tags if t.strip()})
    if cleaned.get("external_id") and not cleaned.get("source"):
        errors["source"] = "An external id needs a source."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def feedback_create(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    body: str,
    customer: Customer | None = None,
    customer_email: str = "",
    customer_name: str = "",
    channel: str = Channel.EMAIL,
    received_at: datetime | None = None,
    **fields: Any,
) -> Feedback:
    """Record feedback, finding or creating its customer by e-mail when none is given."""
    cleaned = validate_feedback_fields({"body": body, "channel": channel, **fields})
    if customer is not None and customer.workspace_id != workspace.pk:
        raise ValidationError({"customer": "The customer belongs to another workspace."})
    if customer is None and (customer_email or customer_name):
        customer = customer_resolve(workspace=workspace, email=customer_email, name=customer_name)
    feedback = Feedback.objects.create(
        workspace=workspace,
        customer=customer,
        received_at=received_at or timezone.now(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **cleaned,
    )
    history_record(workspace_id=workspace.pk, feedback=feedback, actor=actor, action=HistoryAction.CREATED)
    # Background work is recorded in this transaction and sent after commit (services.dispatch).
    dispatch("tracker.feedback_suggest_task", feedback.pk)
    event_record(workspace_id=workspace.pk, event="feedback.created", data=feedback_data(feedback))
    return feedback


@transaction.atomic
def feedback_update(
    *, feedback: Feedback, actor: AbstractBaseUser | None, expected_version: int | None = None, **changes: Any
) -> Feedback:
    allowed = {
        "title",
        "body",
        "channel",
        "nps",
        "csat",
        "ces",
        "tags",
        "received_at",
        "customer",
        "source",
        "external_id",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    locked = Feedback.objects.select_for_update().get(pk=feedback.pk)
    check_version(locked.version, expected_version)
    customer = changes.get("customer")
    if customer is not None and customer.workspace_id != locked.workspace_id:
        raise ValidationError({"customer": "The customer belongs to another workspace."})
    cleaned = validate_feedback_fields(changes)
    diff = {}
    for name, value in cleaned.items():
        attname = Feedback._meta.get_field(name).attname
        new = value.pk if hasattr(value, "pk") else value
        old = getattr(locked, attname)
        if old != new:
            diff[name] = (old, new)
            setattr(locked, attname, new)
    if not diff:
        return locked
    locked.version += 1
    locked.save(update_fields=[Feedback._meta.get_field(f).attname for f in diff] + ["version", "updated_at"])
    history_record(
        workspace_id=locked.workspace_id, feedback=locked, actor=actor, action=HistoryAction.CHANGED, changes=diff
    )
    if "customer" in diff:
        items_refresh_impact_for_feedback([locked.pk])
    return locked


# --- Triage ------------------------------------------------------------------------------


def _set_triage(feedback: Feedback, actor: AbstractBaseUser | None, state: TriageState, duplicate_of=None) -> Feedback:  # noqa: ANN001
    locked = Feedback.objects.select_for_update().get(pk=feedback.pk)
    changes: dict[str, tuple[Any, Any]] = {}
    if locked.triage != state:
        changes["triage"] = (locked.triage, state.value)
    new_dup = duplicate_of.pk if duplicate_of is not None else None
    if locked.duplicate_of_id != new_dup:
        changes["duplicate_of"] = (locked.duplicate_of_id, new_dup)
    if not changes:
        return locked
    locked.triage = state
    locked.duplicate_of_id = new_dup
    locked.version += 1
    locked.save(update_fields=["triage", "duplicate_of", "version", "updated_at"])
    history_record(
        workspace_id=locked.workspace_id, feedback=locked, actor=actor, action=HistoryAction.CHANGED, changes=changes
    )
    return locked


@transaction.atomic
def feedback_accept(*, feedback: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    return _set_triage(feedback, actor, TriageState.ACCEPTED)


@transaction.atomic
def feedback_dismiss(*, feedback: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    return _set_triage(feedback, actor, TriageState.DISMISSED)


@transaction.atomic
def feedback_reopen(*, feedback: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    return _set_triage(feedback, actor, TriageState.NEW)


@transaction.atomic
def feedback_mark_duplicate(*, feedback: Feedback, original: Feedback, actor: AbstractBaseUser | None) -> Feedback:
    """Mark `feedback` a duplicate of `original`; its links move to the survivor.

    A chain is never built: marking against a duplicate points at that one's original.
    """
    if original.workspace_id != feedback.workspace_id:
        raise ValidationError({"duplicate_of": "That feedback belongs to another workspace."})
    while original.duplicate_of_id is not None:
        original = Feedback.objects.get(pk=original.duplicate_of_id)
    if original.pk == feedback.pk:
        raise ValidationError({"duplicate_of": "Feedback cannot be a duplicate of itself."})
    survivor_items = set(FeedbackLink.objects.filter(feedback=original).values_list("item_id", flat=True))
    lock_items(survivor_items | set(FeedbackLink.objects.filter(feedback=feedback).values_list("item_id", flat=True)))
    moved_items = []
    for link in FeedbackLink.objects.filter(feedback=feedback).select_related("item"):
        moved_items.append(link.item_id)
        _link_delete(link)
        if link.item_id not in survivor_items:
            FeedbackLink.objects.create(
                feedback=original,
                item=link.item,
                workspace_id=link.workspace_id,
                quote=link.quote,
                linked_by=link.linked_by,
            )
    # Duplicates of this one follow it to the survivor.
    Feedback.objects.filter(duplicate_of=feedback).update(duplicate_of=original)
    result = _set_triage(feedback, actor, TriageState.DUPLICATE, duplicate_of=original)
    if original.triage == TriageState.NEW:
        _set_triage(original, actor, TriageState.ACCEPTED)
    feedback_refresh_loop_state([feedback.pk, original.pk])
    items_refresh_impact(moved_items)
    return result


# --- Links -------------------------------------------------------------------------------


def lock_items(item_ids: Iterable[Any]) -> None:
    """Lock these items' rows, in primary-key order, before touching their links.

    Every path that changes links or statuses locks the items first and the feedback after
    (as item_update does), so two transactions never wait on each other in a circle; and
    a concurrent link to the same item waits here, so the item's counters count both.
    """
    ids = sorted({str(pk) for pk in item_ids})
    if ids:
        list(BacklogItem.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))


def _link_delete(link: FeedbackLink) -> None:
    Tombstone.objects.update_or_create(
        id=link.pk,
        defaults={
            "workspace_id": link.workspace_id,
            "kind": "link",
            "data": {"feedback": str(link.feedback_id), "item": str(link.item_id)},
            "deleted_at": timezone.now(),
        },
    )
    link.delete()


@transaction.atomic
def feedback_link(
    *, feedback: Feedback, item: BacklogItem, actor: AbstractBaseUser | None, quote: str = ""
) -> FeedbackLink:
    """Link feedback to an item with the quote it answers. Linking again updates the quote."""
    if item.project.workspace_id != feedback.workspace_id:
        raise ValidationError({"item": "Feedback can only be linked to items of its own workspace."})
    if item.deleted_at is not None:
        raise ValidationError({"item": f"{item.key} was deleted."})
    quote = (quote or "").strip()
    if len(quote) > 2000:
        raise ValidationError({"quote": "Keep the quote under 2,000 characters."})
    if feedback.triage == TriageState.DUPLICATE:
        raise ValidationError({"feedback": "Link the original feedback, not its duplicate."})
    lock_items([item.pk])
    link, created = FeedbackLink.objects.get_or_create(
        feedback=feedback,
        item=item,
        defaults={
            "quote": quote,
            "workspace_id": feedback.workspace_id,
            "linked_by": actor if actor and actor.is_authenticated else None,
        },
    )
    if not created:
        if link.quote != quote and quote:
            link.quote = quote
            link.version += 1
            link.save(update_fields=["quote", "version", "updated_at"])
        return link
    history_record_many(
        [
            *history_entries(
                workspace_id=feedback.workspace_id,
                feedback=feedback,
                actor=actor,
                action=HistoryAction.LINKED,
                changes={"item": (None, item.key)},
            ),
            *history_entries(
                workspace_id=feedback.workspace_id,
                project_id=item.project_id,
                item=item,
                actor=actor,
                action=HistoryAction.LINKED,
                changes={"feedback": (None, str(feedback.pk))},
            ),
        ]
    )
    if feedback.triage == TriageState.NEW:
        _set_triage(feedback, actor, TriageState.ACCEPTED)
    feedback_refresh_loop_state([feedback.pk])
    items_refresh_impact([item.pk])
    return link


@transaction.atomic
def feedback_unlink(*, feedback: Feedback, item: BacklogItem, actor: AbstractBaseUser | None) -> None:
    lock_items([item.pk])
    link = FeedbackLink.objects.filter(feedback=feedback, item=item).first()
    if link is None:
        raise ValidationError({"item": f"This feedback is not linked to {item.key}."})
    _link_delete(link)
    history_record_many(
        [
            *history_entries(
                workspace_id=feedback.workspace_id,
                feedback=feedback,
                actor=actor,
                action=HistoryAction.UNLINKED,
                changes={"item": (item.key, None)},
            ),
            *history_entries(
                workspace_id=feedback.workspace_id,
                project_id=item.project_id,
                item=item,
                actor=actor,
                action=HistoryAction.UNLINKED,
                changes={"feedback": (str(feedback.pk), None)},
            ),
        ]
    )
    feedback_refresh_loop_state([feedback.pk])
    items_refresh_impact([item.pk])


@transaction.atomic
def feedback_create_item(
    *,
    feedback: Feedback,
    project: Project,
    actor: AbstractBaseUser | None,
    title: str = "",
    kind: str = ItemKind.STORY,
    quote: str = "",
    **fields: Any,
) -> BacklogItem:
    """Turn feedback into a new backlog item, linked with the quote."""
    from tracker.services.backlog import item_create

    if project.workspace_id != feedback.workspace_id:
        raise ValidationError({"project": "The project belongs to another workspace."})
    title = title or feedback.title or feedback.body[:120]
    description = fields.pop("description", "") or f"> {feedback.body}\n"
    item = item_create(project=project, actor=actor, title=title, kind=kind, description=description, **fields)
    feedback_link(feedback=feedback, item=item, actor=actor, quote=quote)
    return item


# --- Loop state --------------------------------------------------------------------------

ACTIVE_STATUSES = (ItemStatus.IN_PROGRESS, ItemStatus.IN_REVIEW)


def loop_state_for(*, notified: bool, item_states: Iterable[tuple[str, str | None]]) -> LoopState:
    """The loop state from the linked items' (status, sprint state); won't-do items don't count."""
    if notified:
        return LoopState.CLOSED
    states = [(status, sprint_state) for status, sprint_state in item_states if status != ItemStatus.WONT_DO]
    if not states:
        return LoopState.OPEN
    if all(status == ItemStatus.DONE for status, _ in states):
        return LoopState.ADDRESSED
    if any(
        status in ACTIVE_STATUSES or status == ItemStatus.DONE or sprint_state == SprintState.ACTIVE
        for status, sprint_state in states
    ):
        return LoopState.IN_PROGRESS
    return LoopState.PLANNED


def feedback_refresh_loop_state(feedback_ids: Iterable[Any]) -> int:
    """Recompute the stored loop state of these feedback from their links. Two queries + writes."""
    ids = list(set(feedback_ids))
    if not ids:
        return 0
    item_states: dict[Any, list[tuple[str, str | None]]] = defaultdict(list)
    rows = FeedbackLink.objects.filter(feedback_id__in=ids, item__deleted_at__isnull=True).values_list(
        "feedback_id", "item__status", "item__sprint__state"
    )
    for feedback_id, status, sprint_state in rows:
        item_states[feedback_id].append((status, sprint_state))
    now = timezone.now()
    changed = []
    for feedback in Feedback.objects.filter(pk__in=ids).only(
        "pk", "loop_state", "notified_at", "addressed_at", "version"
    ):
        state = loop_state_for(notified=feedback.notified_at is not None, item_states=item_states[feedback.pk])
        if state == feedback.loop_state:
            continue
        feedback.loop_state = state
        if state == LoopState.ADDRESSED and feedback.addressed_at is None:
            feedback.addressed_at = now
        elif state in (LoopState.OPEN, LoopState.PLANNED, LoopState.IN_PROGRESS):
            feedback.addressed_at = None
        feedback.version += 1
        feedback.updated_at = now
        changed.append(feedback)
    Feedback.objects.bulk_update(changed, ["loop_state", "addressed_at", "version", "updated_at"], batch_size=1000)
    addressed = [f for f in changed if f.loop_state == LoopState.ADDRESSED]
    if addressed:
        _record_addressed(addressed)
    return len(changed)


def _record_addressed(changed: list[Feedback]) -> None:
    """feedback.addressed webhook events, per workspace (one webhook query each)."""
    by_workspace: dict[Any, list[Feedback]] = defaultdict(list)
    for feedback in Feedback.objects.filter(pk__in=[f.pk for f in changed]):
        by_workspace[feedback.workspace_id].append(feedback)
    for workspace_id, rows in by_workspace.items():
        events_record(workspace_id=workspace_id, events=[("feedback.addressed", feedback_data(f)) for f in rows])


def feedback_refresh_for_items(item_ids: Iterable[Any]) -> int:
    """Recompute the loop state of all feedback linked to these items."""
    feedback_ids = FeedbackLink.objects.filter(item_id__in=list(item_ids)).values_list("feedback_id", flat=True)
    return feedback_refresh_loop_state(list(feedback_ids))


def items_refresh_impact(item_ids: Iterable[Any]) -> None:
    from tracker.services.metrics import items_refresh_impact as refresh

    refresh(item_ids)


def items_refresh_impact_for_feedback(feedback_ids: Iterable[Any]) -> None:
    item_ids = FeedbackLink.objects.filter(feedback_id__in=list(feedback_ids)).values_list("item_id", flat=True)
    items_refresh_impact(list(item_ids))
