"""The write core of feedback: every create, change and delete of feedback, from any door
(web, API single and bulk, by-external, import, public form, e-mail, seed), goes through
`feedback_write` / `feedback_save` / `feedback_delete` here.

It owns the rules of the write: validation, the customer behind each entry (one rule,
services.customers.customers_resolve), `version` and `updated_at`, History, the loop state
derived from the links, the impact of the linked items when the customer changes, and the
change feed. Suggestions and webhooks are consumers of the feed.

Locks: when a change can move the impact of linked items, their projects and items first
(the order item writes take), then the feedback rows in primary-key order.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
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
    ItemStatus,
    LoopState,
    Project,
    SprintState,
    TriageState,
    Workspace,
)
from tracker.services.bulk import bulk_set, rows_insert
from tracker.services.customers import Identity, customers_resolve, lock_workspace
from tracker.services.errors import BatchInvalid, StaleVersion, ValidationError, messages_of
from tracker.services.history import history_entries

from .rules import EDITABLE_FIELDS, validate_feedback_fields

# Set by the core's own operations (triage, the loop, the digests), never by a door.
INTERNAL_FIELDS = frozenset({"triage", "duplicate_of", "loop_state", "addressed_at", "notified_at"})
UNRECORDED = frozenset({"loop_state", "addressed_at", "notified_at"})
TRIAGE_STATES = frozenset(TriageState.values)


# A door may name the customer by e-mail and name instead of by id: the core resolves it
# (services.customers, the one rule), on creates and updates alike.
NAMED_CUSTOMER_FIELDS = frozenset({"customer_email", "customer_name"})


def _named_customer(fields: dict[str, Any]) -> dict[str, Any]:
    """`customer_email` / `customer_name` as an Identity, unless the entry names its customer."""
    if not NAMED_CUSTOMER_FIELDS & fields.keys():
        return fields
    fields = dict(fields)
    email, name = fields.pop("customer_email", "") or "", fields.pop("customer_name", "") or ""
    if fields.get("customer") is None and (email or name):
        fields.pop("customer", None)
        fields["identity"] = Identity(email=email, name=name)
    return fields


@dataclass
class FeedbackUpdate:
    index: int
    feedback_id: Any
    fields: dict[str, Any]
    expected_version: int | None = None


Outcome = tuple[int, Feedback, str]


def _actor_id(actor: AbstractBaseUser | None) -> Any:
    return actor.pk if actor is not None and actor.is_authenticated else None


def lock_feedback(feedback_ids: Iterable[Any]) -> dict[str, Feedback]:
    ids = sorted({str(pk) for pk in feedback_ids})
    if not ids:
        return {}
    return {str(f.pk): f for f in Feedback.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def lock_items_of_feedback(feedback_ids: Iterable[Any]) -> list[Any]:
    """Lock the projects and items linked to this feedback (before the feedback rows)."""
    from tracker.services.backlog import lock_items

    item_ids = list(
        FeedbackLink.objects.filter(feedback_id__in=list(feedback_ids)).values_list("item_id", flat=True).distinct()
    )
    if item_ids:
        project_ids = set(BacklogItem.objects.filter(pk__in=item_ids).values_list("project_id", flat=True))
        list(Project.objects.select_for_update().filter(pk__in=project_ids).order_by("pk").values_list("pk"))
        lock_items(item_ids)
    return item_ids


def _check_create(workspace: Workspace, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - EDITABLE_FIELDS - INTERNAL_FIELDS - {"identity"}
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    if not (fields.get("body") or "").strip():
        raise ValidationError({"body": "Say what the customer said: the text is required."})
    cleaned = validate_feedback_fields(fields)
    customer = cleaned.get("customer")
    if customer is not None and customer.workspace_id != workspace.pk:
        raise ValidationError({"customer": "The customer belongs to another workspace."})
    identity = cleaned.pop("identity", None)
    if customer is None and identity is not None:
        cleaned["identity"] = identity.cleaned()
    return cleaned


def _check_triage(feedback: Feedback, cleaned: dict[str, Any]) -> None:
    triage = cleaned.get("triage", feedback.triage)
    if triage not in TRIAGE_STATES:
        raise ValidationError({"triage": f"Triage must be one of {', '.join(TriageState.values)}."})
    original = cleaned["duplicate_of"] if "duplicate_of" in cleaned else feedback.duplicate_of_id
    if (triage == TriageState.DUPLICATE) != (original is not None):
        raise ValidationError({"duplicate_of": "Duplicate feedback names its original, and only duplicates do."})


@transaction.atomic
def feedback_write(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    creates: Sequence[tuple[int, dict[str, Any]]] = (),
    updates: Sequence[FeedbackUpdate] = (),
    at: datetime | None = None,
    refresh_impact: bool = True,
    errors: dict[int, dict[str, list[str]]] | None = None,
) -> list[Outcome]:
    """Create and change feedback of one workspace, all or nothing: [(index, feedback, outcome)].

    An entry may name its `customer`, or `customer_email` / `customer_name`
    from which the customer is found or created. Every entry is validated before anything is
    written; bad entries raise BatchInvalid by index, a stale version StaleVersion.
    `errors` are the door's findings about other entries: these are checked all the same,
    and nothing is written.
    """
    at = at or timezone.now()
    errors = {index: dict(fields) for index, fields in (errors or {}).items()}
    creates = [(index, _named_customer(fields)) for index, fields in creates]
    updates = [replace(u, fields=_named_customer(u.fields)) for u in updates]
    # Updates naming their customer (by e-mail, name or an import's Identity): resolved in one go.
    named = [u for u in updates if "identity" in u.fields]
    if named:
        identities = [u.fields.pop("identity").cleaned() for u in named]
        for update, customer in zip(named, customers_resolve(workspace=workspace, identities=identities), strict=True):
            if customer is not None:
                update.fields["customer"] = customer
    planned: list[tuple[int, dict[str, Any]]] = []
    for index, fields in creates:
        try:
            planned.append((index, _check_create(workspace, fields)))
        except ValidationError as exc:
            errors[index] = messages_of(exc)
    pairs = {(f["source"], f["external_id"]) for _, f in planned if f.get("external_id")}
    if pairs:
        lock_workspace(workspace)  # two creators of one external id queue here
        taken = set(
            Feedback.objects.filter(
                workspace=workspace, source__in={s for s, _ in pairs}, external_id__in={x for _, x in pairs}
            )
            .exclude(external_id="")
            .order_by()
            .values_list("source", "external_id")
        )
        for index, fields in planned:
            if fields.get("external_id") and (fields["source"], fields["external_id"]) in taken:
                errors[index] = {"external_id": ["Feedback with this source and external id exists."]}
    if any("customer" in u.fields for u in updates):
        lock_items_of_feedback([u.feedback_id for u in updates])
    locked = lock_feedback(u.feedback_id for u in updates)
    changed: list[tuple[int, Feedback, dict[str, tuple[Any, Any]]]] = []
    results: list[Outcome] = []
    for update in updates:
        feedback = locked.get(str(update.feedback_id))
        if feedback is None or feedback.workspace_id != workspace.pk:
            errors[update.index] = {"feedback": ["No such feedback in this workspace."]}
            continue
        if update.expected_version is not None and update.expected_version != feedback.version:
            raise StaleVersion(feedback.version)
        try:
            unknown = set(update.fields) - EDITABLE_FIELDS - INTERNAL_FIELDS
            if unknown:
                raise ValidationError({name: "Unknown or read-only field." for name in unknown})
            cleaned = validate_feedback_fields(update.fields)
            customer = cleaned.get("customer")
            if customer is not None and customer.workspace_id != workspace.pk:
                raise ValidationError({"customer": "The customer belongs to another workspace."})
            if "duplicate_of" in cleaned and cleaned["duplicate_of"] is not None:
                cleaned["duplicate_of"] = getattr(cleaned["duplicate_of"], "pk", cleaned["duplicate_of"])
            _check_triage(feedback, cleaned)
        except ValidationError as exc:
            errors[update.index] = messages_of(exc)
            continue
        diff = {}
        for name, value in cleaned.items():
            attname = Feedback._meta.get_field(name).attname
            new = value.pk if hasattr(value, "pk") else value
            old = getattr(feedback, attname)
            if old != new:
                diff[name] = (old, new)
        if diff:
            changed.append((update.index, feedback, diff))
        else:
            results.append((update.index, feedback, "unchanged"))
    if errors:
        raise BatchInvalid(errors)

    identities = [fields.pop("identity", None) for _, fields in planned]
    customers = customers_resolve(workspace=workspace, identities=identities) if any(identities) else []
    new = []
    for position, (index, fields) in enumerate(planned):
        if customers and customers[position] is not None:
            fields["customer"] = customers[position]
        feedback = Feedback(
            workspace=workspace,
            received_at=fields.pop("received_at", None) or at,
            created_by_id=_actor_id(actor),
            created_at=at,
            updated_at=at,
            **fields,
        )
        new.append(feedback)
        results.append((index, feedback, "created"))
    results += [(index, feedback, "updated") for index, feedback, _ in changed]
    feedback_save(workspace_id=workspace.pk, actor=actor, created=new, changed=[(f, d) for _, f, d in changed], at=at)
    moved = [f.pk for _, f, diff in changed if "customer" in diff]
    if moved and refresh_impact:
        from tracker.services.backlog import items_refresh_impact

        items_refresh_impact(FeedbackLink.objects.filter(feedback_id__in=moved).values_list("item_id", flat=True))
    results.sort(key=lambda r: r[0])
    return results


def feedback_save(
    *,
    workspace_id: Any,
    actor: AbstractBaseUser | None,
    created: Sequence[Feedback] = (),
    changed: Sequence[tuple[Feedback, dict[str, tuple[Any, Any]]]] = (),
    at: datetime | None = None,
    history: bool = True,
) -> None:
    """Write new feedback and changes to existing ones (each with its diff), with History
    and the change feed. The caller holds the row locks. A fixed number of queries."""
    at = at or timezone.now()
    entries: list[History] = []
    feed: list[ChangeRow] = []
    for feedback in created:
        if history:
            entries += history_entries(
                workspace_id=workspace_id,
                feedback_id=feedback.pk,
                actor=actor,
                action=HistoryAction.CREATED,
                at=min(feedback.created_at or at, at),
            )
        feed.append(ChangeRow(ChangeKind.FEEDBACK, feedback.pk, ChangeOp.CREATE, workspace_id, feedback.version))
    columns: set[str] = set()
    for feedback, diff in changed:
        for name, (_old, new) in diff.items():
            attname = Feedback._meta.get_field(name).attname
            setattr(feedback, attname, new)
            columns.add(attname)
        feedback.version += 1
        feedback.updated_at = at
        recorded = {k: v for k, v in diff.items() if k not in UNRECORDED}
        if history and recorded:
            entries += history_entries(
                workspace_id=workspace_id,
                feedback_id=feedback.pk,
                actor=actor,
                action=HistoryAction.CHANGED,
                changes=recorded,
                at=at,
            )
        feed.append(
            ChangeRow(
                ChangeKind.FEEDBACK,
                feedback.pk,
                ChangeOp.UPDATE,
                workspace_id,
                feedback.version,
                tuple(sorted(diff)),
                # What the loop moved to, as it was then: a webhook of "addressed" must not
                # depend on the state when its consumer gets to it.
                {"loop_state": feedback.loop_state} if "loop_state" in diff else None,
            )
        )
    if created:
        rows_insert(Feedback, list(created))
    if changed:
        bulk_set(Feedback, [f for f, _ in changed], sorted(columns | {"version", "updated_at"}))
    if entries:
        rows_insert(History, entries)
    changes_record(workspace_id=workspace_id, rows=feed, at=at)


# --- Deleting ------------------------------------------------------------------------------


@transaction.atomic
def feedback_delete(*, feedback: Feedback, actor: AbstractBaseUser | None, expected_version: int | None = None) -> None:
    """Delete feedback: its links go (each a tombstone, the items' impact recomputed), its
    duplicates go back to the inbox, and sync clients get a tombstone of it."""
    from tracker.services.feedback.links import links_write

    lock_items_of_feedback([feedback.pk])
    locked = lock_feedback([feedback.pk]).get(str(feedback.pk))
    if locked is None:
        return
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(locked.version)
    links = list(FeedbackLink.objects.filter(feedback=locked).select_related("item"))
    if links:
        links_write(workspace=locked.workspace, actor=actor, deletes=[(locked, link.item) for link in links])
    duplicates = list(Feedback.objects.filter(duplicate_of=locked).values_list("pk", flat=True))
    if duplicates:
        feedback_write(
            workspace=locked.workspace,
            actor=actor,
            updates=[
                FeedbackUpdate(i, pk, {"triage": TriageState.NEW, "duplicate_of": None})
                for i, pk in enumerate(duplicates)
            ],
        )
    pk, version, workspace_id = locked.pk, locked.version, locked.workspace_id
    Feedback.objects.filter(pk=pk).delete()
    changes_record(
        workspace_id=workspace_id,
        rows=[
            ChangeRow(
                ChangeKind.FEEDBACK,
                pk,
                ChangeOp.DELETE,
                workspace_id,
                version + 1,
                # What a connector keying by the other system's id needs to find its copy.
                data={"source": locked.source, "external_id": locked.external_id},
            )
        ],
    )


# --- Loop state ----------------------------------------------------------------------------

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


def feedback_refresh_loop_state(feedback_ids: Iterable[Any], *, at: datetime | None = None) -> int:
    """Recompute the stored loop state of these feedback from their links (a change of each
    feedback whose state moves). Returns how many changed."""
    ids = sorted({str(pk) for pk in feedback_ids})
    if not ids:
        return 0
    at = at or timezone.now()
    item_states: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    rows = FeedbackLink.objects.filter(feedback_id__in=ids, item__deleted_at__isnull=True).values_list(
        "feedback_id", "item__status", "item__sprint__state"
    )
    for feedback_id, status, sprint_state in rows:
        item_states[str(feedback_id)].append((status, sprint_state))
    by_workspace: dict[Any, list[tuple[Feedback, dict[str, tuple[Any, Any]]]]] = defaultdict(list)
    for pk, feedback in lock_feedback(ids).items():
        state = loop_state_for(notified=feedback.notified_at is not None, item_states=item_states[pk])
        if state == feedback.loop_state:
            continue
        diff: dict[str, tuple[Any, Any]] = {"loop_state": (feedback.loop_state, state)}
        if state == LoopState.ADDRESSED and feedback.addressed_at is None:
            diff["addressed_at"] = (None, at)
        elif state in (LoopState.OPEN, LoopState.PLANNED, LoopState.IN_PROGRESS) and feedback.addressed_at:
            diff["addressed_at"] = (feedback.addressed_at, None)
        by_workspace[feedback.workspace_id].append((feedback, diff))
    for workspace_id, changed in by_workspace.items():
        feedback_save(workspace_id=workspace_id, actor=None, changed=changed, at=at, history=False)
    return sum(len(c) for c in by_workspace.values())


def feedback_refresh_for_items(item_ids: Iterable[Any]) -> int:
    """Recompute the loop state of all feedback linked to these items."""
    feedback_ids = FeedbackLink.objects.filter(item_id__in=list(item_ids)).values_list("feedback_id", flat=True)
    return feedback_refresh_loop_state(list(feedback_ids))


@transaction.atomic
def feedback_mark_notified(*, feedback_ids: Iterable[Any], at: datetime | None) -> int:
    """The customer was told at `at` (the loop closes), or with None the telling is undone
    after a failed send (the loop state goes back to what the links say)."""
    locked = lock_feedback(feedback_ids)
    by_workspace: dict[Any, list[tuple[Feedback, dict[str, tuple[Any, Any]]]]] = defaultdict(list)
    for feedback in locked.values():
        diff: dict[str, tuple[Any, Any]] = {}
        if feedback.notified_at != at:
            diff["notified_at"] = (feedback.notified_at, at)
        if at is not None and feedback.loop_state != LoopState.CLOSED:
            diff["loop_state"] = (feedback.loop_state, LoopState.CLOSED)
        if diff:
            by_workspace[feedback.workspace_id].append((feedback, diff))
    for workspace_id, changed in by_workspace.items():
        feedback_save(workspace_id=workspace_id, actor=None, changed=changed, history=False)
    if at is None:
        feedback_refresh_loop_state(locked)
    return sum(len(c) for c in by_workspace.values())
