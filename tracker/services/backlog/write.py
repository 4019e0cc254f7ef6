"""The write core of backlog items: every create, change and delete of an item, from any
door, goes through `items_write` / `items_save` here.

It owns the rules of the write: numbering and rank, `version` and `updated_at` (bumped on
every visible change), `done_at` (set when an item becomes done, cleared when it leaves
done; an import may carry the real date), labels and objectives, History, the loop state of
the linked feedback, and the change feed. Webhooks and the similarity index are consumers
of the feed (tracker.feed.consumers), not called from here.

Locks: the project row first (the mutex for numbers and ranks, and the order every item
write takes), then the changed items in primary-key order.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from tracker.feed.record import ChangeRow, changes_record
from tracker.models import (
    BacklogItem,
    ChangeKind,
    ChangeOp,
    History,
    HistoryAction,
    ItemStatus,
    Label,
    Project,
)
from tracker.services.bulk import bulk_set, rows_insert
from tracker.services.errors import BatchInvalid, StaleVersion, ValidationError, messages_of
from tracker.services.history import history_entries

from .rules import CREATE_ONLY_FIELDS, WRITABLE_FIELDS, validate_item_fields

RANK_GAP = 1 << 20
Position = Literal["top", "bottom"]
Outcome = Literal["created", "updated", "unchanged"]
# Derived and internal columns: written by the core, not recorded as History.
# Numbers the core derives from the links (not edits): they move `updated_at` and the feed,
# so sync clients and caches see them, but not `version`, so an edit form opened before a
# customer was linked still saves.
DERIVED_FIELDS = frozenset({"impact_score", "feedback_count", "customer_count", "customer_segments"})
UNRECORDED = frozenset({"done_at", *DERIVED_FIELDS})
# Changes that move the loop state of the linked feedback.
LOOP_FIELDS = frozenset({"status", "sprint", "deleted_at"})


@dataclass
class Written:
    """One entry of a write: what became of it."""

    index: int
    item: BacklogItem
    outcome: Outcome
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class Update:
    index: int
    item_id: Any
    fields: dict[str, Any]
    expected_version: int | None = None


def lock_project(project: Project) -> Project:
    """Lock the project row: the mutex for numbering and ranking in its backlog."""
    return Project.objects.select_for_update().get(pk=project.pk)


def lock_items(item_ids: Iterable[Any]) -> dict[Any, BacklogItem]:
    """Lock and read these items, in primary-key order (so two writers never wait in a circle)."""
    ids = sorted({str(pk) for pk in item_ids})
    if not ids:
        return {}
    rows = BacklogItem.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {str(row.pk): row for row in rows}


def _actor_id(actor: AbstractBaseUser | None) -> Any:
    return actor.pk if actor is not None and actor.is_authenticated else None


def _unknown(fields: dict[str, Any], *, create: bool) -> dict[str, list[str]]:
    allowed = WRITABLE_FIELDS | CREATE_ONLY_FIELDS if create else WRITABLE_FIELDS
    return {name: ["Unknown or read-only field."] for name in fields if name not in allowed}


@transaction.atomic
def items_write(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    creates: Sequence[tuple[int, dict[str, Any]]] = (),
    updates: Sequence[Update] = (),
    position: Position = "bottom",
    at: datetime | None = None,
    errors: dict[int, dict[str, list[str]]] | None = None,
) -> list[Written]:
    """Create and change items of one project, all or nothing.

    `creates` are (index, fields) and `updates` name an item by id with the fields to set;
    related objects are resolved already, `labels` is a list of names. Every entry is
    validated before anything is written: bad entries raise BatchInvalid naming each one by
    its index, a stale `expected_version` raises StaleVersion. New items go to the top or the
    bottom of the backlog in entry order. A change that changes nothing writes nothing.
    `errors` are the door's own findings about other entries (e.g. wrong types): with any,
    the entries here are still checked, so the answer names every bad one, and nothing is
    written.
    """
    at = at or timezone.now()
    project = lock_project(project)
    locked = lock_items(u.item_id for u in updates)
    errors = {index: dict(fields) for index, fields in (errors or {}).items()}
    planned_creates: list[tuple[int, dict[str, Any]]] = []
    planned_updates: list[tuple[int, BacklogItem, dict[str, Any]]] = []
    for index, fields in creates:
        bad = _unknown(fields, create=True)
        if not bad and fields.get("title") is None:
            bad["title"] = ["A title is required to create an item."]
        if bad:
            errors[index] = bad
            continue
        try:
            planned_creates.append((index, validate_item_fields(project, fields)))
        except ValidationError as exc:
            errors[index] = messages_of(exc)
    for update in updates:
        item = locked.get(str(update.item_id))
        if item is None or item.project_id != project.pk:
            errors[update.index] = {"item": ["No such item in this project."]}
            continue
        if item.deleted_at is not None:
            errors[update.index] = {"item": [f"{project.key}-{item.number} was deleted."]}
            continue
        if update.expected_version is not None and update.expected_version != item.version:
            raise StaleVersion(item.version)
        bad = _unknown(update.fields, create=False)
        if bad:
            errors[update.index] = bad
            continue
        try:
            planned_updates.append((update.index, item, validate_item_fields(project, update.fields, item=item)))
        except ValidationError as exc:
            errors[update.index] = messages_of(exc)
    if errors:
        raise BatchInvalid(errors)

    created = _new_items(project, actor, planned_creates, position, at)
    current_labels = _labels_of([item.pk for _, item, fields in planned_updates if fields.get("labels") is not None])
    current_objectives = _objectives_of(
        [item.pk for _, item, fields in planned_updates if fields.get("objectives") is not None]
    )
    results = [Written(index, item, "created") for index, item in created]
    changed: list[tuple[BacklogItem, dict[str, tuple[Any, Any]]]] = []
    for index, item, fields in planned_updates:
        diff = item_diff(item, fields, at=at)
        if fields.get("labels") is not None and current_labels[item.pk] != fields["labels"]:
            diff["labels"] = (current_labels[item.pk], fields["labels"])
        if fields.get("objectives") is not None:
            wanted = sorted(str(o.pk) for o in fields["objectives"])
            if current_objectives[item.pk] != wanted:
                diff["objectives"] = (current_objectives[item.pk], wanted)
        results.append(Written(index, item, "updated" if diff else "unchanged", diff))
        if diff:
            changed.append((item, diff))
    items_save(project=project, actor=actor, created=[item for _, item in created], changed=changed, at=at)
    results.sort(key=lambda r: r.index)
    return results


def item_diff(item: BacklogItem, fields: dict[str, Any], *, at: datetime) -> dict[str, tuple[Any, Any]]:
    """The fields that change, (old, new) with related objects as their keys; `done_at`
    follows the status (or the date given)."""
    diff: dict[str, tuple[Any, Any]] = {}
    for name, value in fields.items():
        if name in ("labels", "objectives", "done_at"):
            continue
        attname = BacklogItem._meta.get_field(name).attname
        old = getattr(item, attname)
        new = value.pk if hasattr(value, "pk") else value
        if name == "estimate" and old is not None and new is not None and Decimal(old) == new:
            continue
        if old != new:
            diff[name] = (old, new)
    status = diff["status"][1] if "status" in diff else item.status
    if status == ItemStatus.DONE:
        wanted = fields.get("done_at") or (item.done_at if "status" not in diff else None) or at
        if item.done_at != wanted:
            diff["done_at"] = (item.done_at, wanted)
    elif item.done_at is not None:
        diff["done_at"] = (item.done_at, None)
    return diff


def _top_rank(project: Project) -> int:
    lowest = BacklogItem.objects.filter(project=project).aggregate(m=Min("rank"))["m"]
    return RANK_GAP if lowest is None else lowest - RANK_GAP


def _bottom_rank(project: Project) -> int:
    highest = BacklogItem.objects.filter(project=project).aggregate(m=Max("rank"))["m"]
    return RANK_GAP if highest is None else highest + RANK_GAP


def _new_items(
    project: Project,
    actor: AbstractBaseUser | None,
    planned: list[tuple[int, dict[str, Any]]],
    position: Position,
    at: datetime,
) -> list[tuple[int, BacklogItem]]:
    """Unsaved items with their numbers and ranks (the project row is locked)."""
    if not planned:
        return []
    number = project.next_item_number
    project.next_item_number += len(planned)
    Project.objects.filter(pk=project.pk).update(next_item_number=project.next_item_number)
    if position == "top":
        rank = _top_rank(project) - (len(planned) - 1) * RANK_GAP
    else:
        rank = _bottom_rank(project)
    out = []
    for offset, (index, fields) in enumerate(planned):
        values = {k: v for k, v in fields.items() if k not in ("labels", "objectives", "done_at", "created_at")}
        status = values.get("status", ItemStatus.BACKLOG)
        created_at = fields.get("created_at") or at
        item = BacklogItem(
            project=project,
            number=number + offset,
            rank=rank + offset * RANK_GAP,
            created_by_id=_actor_id(actor),
            done_at=(fields.get("done_at") or at) if status == ItemStatus.DONE else None,
            created_at=created_at,
            updated_at=at,
            **values,
        )
        item.new_labels = fields.get("labels") or []  # type: ignore[attr-defined]
        item.new_objectives = [str(o.pk) for o in fields.get("objectives") or []]  # type: ignore[attr-defined]
        out.append((index, item))
    return out


def items_save(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    created: Sequence[BacklogItem] = (),
    changed: Sequence[tuple[BacklogItem, dict[str, tuple[Any, Any]]]] = (),
    at: datetime | None = None,
    action: HistoryAction = HistoryAction.CHANGED,
    history: bool = True,
) -> None:
    """Write new items and changes to existing ones (each with its diff, new values as keys),
    with History, labels, the loop state of linked feedback and the change feed.

    The caller holds the project lock and the items' row locks. A fixed number of queries
    however many rows (COPY and one UPDATE … FROM VALUES on PostgreSQL).
    """
    at = at or timezone.now()
    entries: list[History] = []
    feed: list[ChangeRow] = []
    for item in created:
        entries += (
            []
            if not history
            else history_entries(
                workspace_id=project.workspace_id,
                project_id=project.pk,
                item_id=item.pk,
                sprint_id=item.sprint_id,
                actor=actor,
                action=HistoryAction.CREATED,
                changes={
                    "status": (None, item.status),
                    **({"sprint": (None, item.sprint_id)} if item.sprint_id else {}),
                },
                at=item.created_at if item.created_at and item.created_at < at else at,
            )
        )
        feed.append(ChangeRow(ChangeKind.ITEM, item.pk, ChangeOp.CREATE, project.pk, item.version))
    columns: set[str] = set()
    label_sets: dict[Any, list[str]] = {
        item.pk: item.new_labels for item in created if getattr(item, "new_labels", None)
    }
    objective_sets: dict[Any, list[str]] = {
        item.pk: item.new_objectives for item in created if getattr(item, "new_objectives", None)
    }
    loop_items = []
    for item, diff in changed:
        for name, (_old, new) in diff.items():
            if name in ("labels", "objectives"):
                continue
            attname = BacklogItem._meta.get_field(name).attname
            setattr(item, attname, new)
            columns.add(attname)
        if "labels" in diff:
            label_sets[item.pk] = diff["labels"][1]
        if "objectives" in diff:
            objective_sets[item.pk] = diff["objectives"][1]
        if LOOP_FIELDS & diff.keys():
            loop_items.append(item.pk)
        if not diff.keys() <= DERIVED_FIELDS:
            item.version += 1
        item.updated_at = at
        deleted = "deleted_at" in diff
        if history:
            recorded = {k: v for k, v in diff.items() if k not in UNRECORDED and k != "deleted_at"}
            if deleted or recorded:
                entries += history_entries(
                    workspace_id=project.workspace_id,
                    project_id=project.pk,
                    item_id=item.pk,
                    sprint_id=item.sprint_id if "sprint" not in diff else (diff["sprint"][1] or diff["sprint"][0]),
                    actor=actor,
                    action=HistoryAction.DELETED if deleted else action,
                    changes=None if deleted else recorded,
                    at=at,
                )
        feed.append(
            ChangeRow(
                ChangeKind.ITEM,
                item.pk,
                ChangeOp.DELETE if deleted else ChangeOp.UPDATE,
                project.pk,
                item.version,
                tuple(sorted(diff)),
            )
        )
    if created:
        rows_insert(BacklogItem, list(created))
    if changed:
        bulk_set(BacklogItem, [item for item, _ in changed], sorted(columns | {"version", "updated_at"}))
    if label_sets:
        _labels_replace(project, label_sets, clear=[item.pk for item, diff in changed if "labels" in diff])
    _objectives_replace(objective_sets)
    if entries:
        rows_insert(History, entries)
    changes_record(workspace_id=project.workspace_id, rows=feed, at=at)
    if loop_items:
        from tracker.services.feedback import feedback_refresh_for_items

        feedback_refresh_for_items(loop_items)


# --- Labels and objectives ---------------------------------------------------------------


def _labels_of(item_ids: list[Any]) -> dict[Any, list[str]]:
    names: dict[Any, list[str]] = defaultdict(list)
    if item_ids:
        through = BacklogItem.labels.through.objects.filter(backlogitem_id__in=item_ids)
        for item_id, name in through.values_list("backlogitem_id", "label__name"):
            names[item_id].append(name)
    return defaultdict(list, {k: sorted(v) for k, v in names.items()})


def _objectives_of(item_ids: list[Any]) -> dict[Any, list[str]]:
    ids: dict[Any, list[str]] = defaultdict(list)
    if item_ids:
        through = BacklogItem.objectives.through.objects.filter(backlogitem_id__in=item_ids)
        for item_id, objective_id in through.values_list("backlogitem_id", "objective_id"):
            ids[item_id].append(str(objective_id))
    return defaultdict(list, {k: sorted(v) for k, v in ids.items()})


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


def _objectives_replace(objective_sets: dict[Any, list[str]]) -> None:
    if not objective_sets:
        return
    through = BacklogItem.objectives.through
    through.objects.filter(backlogitem_id__in=list(objective_sets)).delete()
    through.objects.bulk_create(
        [through(backlogitem_id=item_id, objective_id=pk) for item_id, ids in objective_sets.items() for pk in ids],
        ignore_conflicts=True,
    )


# --- Deleting ------------------------------------------------------------------------------


@transaction.atomic
def items_delete(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    item_ids: Iterable[Any],
    expected_version: int | None = None,
    at: datetime | None = None,
) -> list[BacklogItem]:
    """Tombstone items: they disappear everywhere but stay for sync clients. Their children
    leave the epic (a change of each child). Deleting a deleted item changes nothing."""
    at = at or timezone.now()
    project = lock_project(project)
    ids = list(item_ids)
    children = list(
        BacklogItem.objects.filter(epic_id__in=ids, deleted_at__isnull=True)
        .exclude(pk__in=ids)
        .values_list("pk", flat=True)
    )
    locked = lock_items([*ids, *children])
    wanted = {str(pk) for pk in ids}
    targets = [item for pk, item in locked.items() if pk in wanted]
    for item in targets:
        if item.project_id != project.pk:
            raise ValidationError({"item": "No such item in this project."})
        if expected_version is not None and item.deleted_at is None and item.version != expected_version:
            raise StaleVersion(item.version)
    changed = [(item, {"deleted_at": (None, at)}) for item in targets if item.deleted_at is None]
    changed += [(locked[str(pk)], {"epic": (locked[str(pk)].epic_id, None)}) for pk in children if str(pk) in locked]
    items_save(project=project, actor=actor, changed=changed, at=at)
    return targets
