"""Upserts by external id for sync clients: one object, or a batch of up to 1,000 at once.

A batch is set-based: however many entries, it runs a fixed number of queries (read the
existing rows, allocate numbers and ranks under the project lock, one bulk insert, one bulk
update, History in bulk, label rows in bulk, loop states in bulk). Every entry is validated
with the same rules as a single write (services.backlog / services.feedback) before anything
is written; one bad entry rejects the batch and the error names each bad entry by index.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    Customer,
    Feedback,
    History,
    HistoryAction,
    ItemStatus,
    Label,
    Project,
    Workspace,
)
from tracker.services.backlog import (
    EDITABLE_FIELDS,
    RANK_GAP,
    item_create,
    item_update,
    lock_project,
    validate_item_fields,
)
from tracker.services.bulk import rows_insert
from tracker.services.customers import customer_create, customer_update
from tracker.services.errors import StaleVersion, ValidationError
from tracker.services.feedback import (
    feedback_create,
    feedback_refresh_for_items,
    feedback_update,
    items_refresh_impact_for_feedback,
    validate_feedback_fields,
)
from tracker.services.history import history_entries

MAX_BATCH = 1000
Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class Upserted:
    outcome: Outcome
    obj: Any


class BatchInvalid(Exception):
    """Some entries of a batch are invalid; `errors` maps each bad entry's index to its fields."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(f"{len(errors)} invalid entries")
        self.errors = errors


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in exc.message_dict.items()}


def _external_pair(entry: dict[str, Any]) -> tuple[str, str]:
    return (entry.get("source") or "").strip(), (entry.get("external_id") or "").strip()


def _check_pairs(entries: Sequence[dict[str, Any] | None], errors: dict[int, dict[str, list[str]]]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        if entry is None:
            continue
        source, external_id = _external_pair(entry)
        if not source or not external_id:
            errors.setdefault(index, {})["external_id"] = ["Each entry needs a source and an external_id."]
        elif (source, external_id) in seen:
            errors.setdefault(index, {})["external_id"] = [
                f"Repeats entry {seen[(source, external_id)]}: each external id once per batch."
            ]
        else:
            seen[(source, external_id)] = index


def _existing_by_pair(queryset: Any, entries: Sequence[dict[str, Any] | None]) -> dict[tuple[str, str], Any]:
    pairs = {_external_pair(e) for e in entries if e is not None}
    sources = {s for s, _ in pairs}
    external_ids = {x for _, x in pairs}
    rows = queryset.filter(source__in=sources, external_id__in=external_ids).order_by()
    return {(r.source, r.external_id): r for r in rows if (r.source, r.external_id) in pairs}


def bulk_set(model: Any, objs: Sequence[Any], fields: Sequence[str]) -> None:
    """Write `fields` of every object in one UPDATE.

    On PostgreSQL an UPDATE … FROM (VALUES …) joined on the primary key: Django's
    bulk_update builds a CASE expression per field and row, which for 1,000 rows costs more
    in Python than the write itself. Elsewhere, bulk_update.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    casts = [f"%s::{field.db_type(connection)}" for field in columns]
    row = "(" + ", ".join(casts) + ")"
    params: list[Any] = []
    for obj in objs:
        for field in columns:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names from the model, values as params
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({', '.join(names)}) "
        f"WHERE t.{names[0]} = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Items --------------------------------------------------------------------------------


@transaction.atomic
def item_upsert(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Upserted:
    """Create or update the one item of `project` with this (source, external_id).

    Locks the project row first, so two concurrent upserts of the same new pair run one after
    the other and the second updates what the first created instead of failing.
    """
    source, external_id = source.strip(), external_id.strip()
    if not source or not external_id:
        raise ValidationError({"external_id": "A source and an external id are required."})
    fields = {k: v for k, v in fields.items() if k not in ("source", "external_id")}
    lock_project(project)
    existing = BacklogItem.objects.filter(project=project, source=source, external_id=external_id).first()
    if existing is None:
        if expected_version is not None:
            raise StaleVersion(0)
        if not fields.get("title"):
            raise ValidationError({"title": "A title is required to create an item."})
        item = item_create(project=project, actor=actor, source=source, external_id=external_id, **fields)
        return Upserted("created", item)
    if existing.deleted_at is not None:
        raise ValidationError({"external_id": f"{project.key}-{existing.number} with this external id was deleted."})
    before = existing.version
    item = item_update(item=existing, actor=actor, expected_version=expected_version, **fields)
    return Upserted("updated" if item.version != before else "unchanged", item)


def _item_diff(item: BacklogItem, cleaned: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    diff = {}
    for name, value in cleaned.items():
        attname = BacklogItem._meta.get_field(name).attname
        old = getattr(item, attname)
        new = value.pk if hasattr(value, "pk") else value
        if name == "estimate" and old is not None and new is not None and Decimal(old) == new:
            continue
        if old != new:
            diff[name] = (old, new)
    return diff


@transaction.atomic
def items_upsert_bulk(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    entries: Sequence[dict[str, Any] | None],
    errors: dict[int, dict[str, list[str]]] | None = None,
) -> list[Upserted]:
    """Upsert up to MAX_BATCH items by (source, external_id); all or nothing.

    Entries hold item fields (related objects already resolved) and optionally `labels`
    (a list of names, replacing the item's labels). New items go to the bottom of the backlog
    in entry order. Raises BatchInvalid listing every bad entry; nothing is written then.
    `errors` are the caller's own findings (e.g. wrong types), merged in; their entries are None.
    The project row is locked for the whole batch (numbers and ranks are allocated under it).
    """
    if len(entries) > MAX_BATCH:
        raise ValidationError({"items": f"At most {MAX_BATCH} entries per batch; got {len(entries)}."})
    errors = dict(errors or {})
    _check_pairs(entries, errors)
    project = lock_project(project)
    existing = _existing_by_pair(BacklogItem.objects.filter(project=project), entries)
    existing_labels: dict[Any, list[str]] = defaultdict(list)
    if any(e is not None and "labels" in e for e in entries) and existing:
        through = BacklogItem.labels.through.objects.filter(backlogitem_id__in=[i.pk for i in existing.values()])
        for item_id, name in through.values_list("backlogitem_id", "label__name"):
            existing_labels[item_id].append(name)

    plans: list[tuple[str, BacklogItem | None, dict[str, Any], list[str] | None]] = []
    for index, entry in enumerate(entries):
        if entry is None or index in errors:
            continue
        fields = {k: v for k, v in entry.items() if k != "labels"}
        labels = sorted({n.strip()[:40] for n in entry["labels"] if n and n.strip()}) if "labels" in entry else None
        unknown = set(fields) - set(EDITABLE_FIELDS)
        if unknown:
            errors.setdefault(index, {}).update({n: ["Unknown or read-only field."] for n in unknown})
            continue
        item = existing.get(_external_pair(entry))
        if item is not None and item.deleted_at is not None:
            errors.setdefault(index, {})["external_id"] = [f"{project.key}-{item.number} was deleted."]
            continue
        if item is None and not (fields.get("title") or "").strip():
            errors.setdefault(index, {})["title"] = ["A title is required to create an item."]
            continue
        try:
            cleaned = validate_item_fields(project, fields, item=item)
        except ValidationError as exc:
            errors.setdefault(index, {}).update(_messages(exc))
            continue
        plans.append(("update" if item else "create", item, cleaned, labels))
    if errors:
        raise BatchInvalid(errors)

    now = timezone.now()
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    results: list[Upserted] = []
    to_create: list[BacklogItem] = []
    to_update: list[BacklogItem] = []
    update_fields: set[str] = set()
    history: list[History] = []
    label_sets: dict[Any, list[str]] = {}
    refresh_loop: list[Any] = []

    creates = sum(1 for kind, *_ in plans if kind == "create")
    number = project.next_item_number
    if creates:
        Project.objects.filter(pk=project.pk).update(next_item_number=F("next_item_number") + creates)
        highest = BacklogItem.objects.filter(project=project).aggregate(m=Max("rank"))["m"]
        rank = highest if highest is not None else 0
    for kind, item, cleaned, labels in plans:
        if kind == "create":
            rank += RANK_GAP
            status = cleaned.get("status", ItemStatus.BACKLOG)
            item = BacklogItem(
                project=project,
                number=number,
                rank=rank,
                created_by_id=actor_id,
                done_at=now if status == ItemStatus.DONE else None,
                created_at=now,
                updated_at=now,
                **cleaned,
            )
            number += 1
            to_create.append(item)
            history += history_entries(
                workspace_id=project.workspace_id,
                project=project,
                item=item,
                sprint_id=item.sprint_id,
                actor=actor,
                action=HistoryAction.CREATED,
                changes={
                    "status": (None, item.status),
                    **({"sprint": (None, item.sprint_id)} if item.sprint_id else {}),
                },
                at=now,
            )
            if labels:
                label_sets[item.pk] = labels
            results.append(Upserted("created", item))
            continue
        assert item is not None  # noqa: S101 - plans of kind "update" carry their item
        diff = _item_diff(item, cleaned)
        if labels is not None and sorted(existing_labels.get(item.pk, [])) != labels:
            diff["labels"] = (sorted(existing_labels.get(item.pk, [])), labels)
            label_sets[item.pk] = labels
        if not diff:
            results.append(Upserted("unchanged", item))
            continue
        for name, (_old, new) in diff.items():
            if name == "labels":
                continue
            setattr(item, BacklogItem._meta.get_field(name).attname, new)
            update_fields.add(BacklogItem._meta.get_field(name).attname)
        if "status" in diff:
            item.done_at = (item.done_at or now) if item.status == ItemStatus.DONE else None
            update_fields.add("done_at")
        if "status" in diff or "sprint" in diff:
            refresh_loop.append(item.pk)
        item.version += 1
        item.updated_at = now
        to_update.append(item)
        history += history_entries(
            workspace_id=project.workspace_id,
            project=project,
            item_id=item.pk,
            sprint_id=item.sprint_id,
            actor=actor,
            action=HistoryAction.CHANGED,
            changes=diff,
            at=now,
        )
        results.append(Upserted("updated", item))

    # One statement each on PostgreSQL (COPY): the count of queries stays fixed.
    if to_create:
        rows_insert(BacklogItem, to_create)
    if to_update:
        bulk_set(BacklogItem, to_update, sorted(update_fields | {"version", "updated_at"}))
    if label_sets:
        _labels_replace(project, label_sets, clear=[i.pk for i in to_update if i.pk in label_sets])
    if history:
        rows_insert(History, history)
    # Stored impact depends only on the links, which an upsert does not touch; the loop state
    # of linked feedback depends on status and sprint, so it is refreshed for those items.
    if refresh_loop:
        feedback_refresh_for_items(refresh_loop)
    return results


def _labels_replace(project: Project, label_sets: dict[Any, list[str]], *, clear: list[Any]) -> None:
    """Give each item exactly its labels: four queries for the whole batch."""
    workspace_id = project.workspace_id
    names = sorted({n for names in label_sets.values() for n in names})
    if names:
        Label.objects.bulk_create([Label(workspace_id=workspace_id, name=n) for n in names], ignore_conflicts=True)
    by_name = {lb.name: lb.pk for lb in Label.objects.filter(workspace_id=workspace_id, name__in=names)}
    through = BacklogItem.labels.through
    if clear:
        through.objects.filter(backlogitem_id__in=clear).delete()
    rows = [through(backlogitem_id=item_id, label_id=by_name[n]) for item_id, ns in label_sets.items() for n in ns]
    if rows:
        through.objects.bulk_create(rows, ignore_conflicts=True)


# --- Feedback and customers ----------------------------------------------------------------


def lock_workspace(workspace: Workspace) -> Workspace:
    """Lock the workspace row: serializes upserts by external id of feedback and customers."""
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


@transaction.atomic
def feedback_upsert(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Upserted:
    source, external_id = source.strip(), external_id.strip()
    if not source or not external_id:
        raise ValidationError({"external_id": "A source and an external id are required."})
    fields = {k: v for k, v in fields.items() if k not in ("source", "external_id")}
    lock_workspace(workspace)
    existing = Feedback.objects.filter(workspace=workspace, source=source, external_id=external_id).first()
    if existing is None:
        if expected_version is not None:
            raise StaleVersion(0)
        if not fields.get("body"):
            raise ValidationError({"body": "The text is required to create feedback."})
        feedback = feedback_create(workspace=workspace, actor=actor, source=source, external_id=external_id, **fields)
        return Upserted("created", feedback)
    before = existing.version
    feedback = feedback_update(feedback=existing, actor=actor, expected_version=expected_version, **fields)
    return Upserted("updated" if feedback.version != before else "unchanged", feedback)


FEEDBACK_BULK_FIELDS = {
    "title", "body", "channel", "nps", "csat", "ces", "tags", "received_at", "customer", "source", "external_id",
}  # fmt: skip


@transaction.atomic
def feedback_upsert_bulk(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    entries: Sequence[dict[str, Any] | None],
    errors: dict[int, dict[str, list[str]]] | None = None,
) -> list[Upserted]:
    """Upsert up to MAX_BATCH feedback by (source, external_id); all or nothing, fixed queries."""
    if len(entries) > MAX_BATCH:
        raise ValidationError({"feedback": f"At most {MAX_BATCH} entries per batch; got {len(entries)}."})
    errors = dict(errors or {})
    _check_pairs(entries, errors)
    lock_workspace(workspace)
    existing = _existing_by_pair(Feedback.objects.filter(workspace=workspace), entries)
    plans: list[tuple[Feedback | None, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        if entry is None or index in errors:
            continue
        unknown = set(entry) - FEEDBACK_BULK_FIELDS
        if unknown:
            errors.setdefault(index, {}).update({n: ["Unknown or read-only field."] for n in unknown})
            continue
        current = existing.get(_external_pair(entry))
        customer = entry.get("customer")
        if customer is not None and customer.workspace_id != workspace.pk:
            errors.setdefault(index, {})["customer"] = ["The customer belongs to another workspace."]
            continue
        if current is None and not (entry.get("body") or "").strip():
            errors.setdefault(index, {})["body"] = ["The text is required to create feedback."]
            continue
        try:
            cleaned = validate_feedback_fields(entry)
        except ValidationError as exc:
            errors.setdefault(index, {}).update(_messages(exc))
            continue
        plans.append((current, cleaned))
    if errors:
        raise BatchInvalid(errors)

    now = timezone.now()
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    results: list[Upserted] = []
    to_create: list[Feedback] = []
    to_update: list[Feedback] = []
    update_fields: set[str] = set()
    history: list[History] = []
    customer_changed: list[Any] = []
    for current, cleaned in plans:
        if current is None:
            cleaned.setdefault("received_at", now)
            feedback = Feedback(workspace=workspace, created_by_id=actor_id, created_at=now, updated_at=now, **cleaned)
            to_create.append(feedback)
            history += history_entries(
                workspace_id=workspace.pk, feedback=feedback, actor=actor, action=HistoryAction.CREATED, at=now
            )
            results.append(Upserted("created", feedback))
            continue
        diff = {}
        for name, value in cleaned.items():
            attname = Feedback._meta.get_field(name).attname
            new = value.pk if hasattr(value, "pk") else value
            if getattr(current, attname) != new:
                diff[name] = (getattr(current, attname), new)
                setattr(current, attname, new)
                update_fields.add(attname)
        if not diff:
            results.append(Upserted("unchanged", current))
            continue
        if "customer" in diff:
            customer_changed.append(current.pk)
        current.version += 1
        current.updated_at = now
        to_update.append(current)
        history += history_entries(
            workspace_id=workspace.pk,
            feedback_id=current.pk,
            actor=actor,
            action=HistoryAction.CHANGED,
            changes=diff,
            at=now,
        )
        results.append(Upserted("updated", current))
    if to_create:
        rows_insert(Feedback, to_create)
    if to_update:
        bulk_set(Feedback, to_update, sorted(update_fields | {"version", "updated_at"}))
    if history:
        rows_insert(History, history)
    if customer_changed:
        items_refresh_impact_for_feedback(customer_changed)
    return results


@transaction.atomic
def customer_upsert(
    *,
    workspace: Workspace,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Upserted:
    source, external_id = source.strip(), external_id.strip()
    if not source or not external_id:
        raise ValidationError({"external_id": "A source and an external id are required."})
    fields = {k: v for k, v in fields.items() if k not in ("source", "external_id")}
    lock_workspace(workspace)
    existing = Customer.objects.filter(workspace=workspace, source=source, external_id=external_id).first()
    if existing is None:
        if expected_version is not None:
            raise StaleVersion(0)
        customer = customer_create(workspace=workspace, source=source, external_id=external_id, **fields)
        return Upserted("created", customer)
    before = existing.version
    customer = customer_update(customer=existing, expected_version=expected_version, **fields)
    return Upserted("updated" if customer.version != before else "unchanged", customer)
