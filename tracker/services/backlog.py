"""Backlog items: create, edit, delete (tombstone) and rank.

Rank is a BIGINT per item, unique per project, spaced RANK_GAP apart. A move writes one row
(the midpoint of its new neighbours); only when two neighbours touch is the project's
backlog rebalanced, which is rare. Moves and creates lock the project row, so two
concurrent moves in one backlog run one after the other and never collide.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    HistoryAction,
    ItemKind,
    ItemStatus,
    Label,
    Objective,
    Project,
    SprintState,
)
from tracker.services.dispatch import dispatch
from tracker.services.errors import ValidationError, check_version
from tracker.services.history import history_entries, history_record, history_record_many
from tracker.services.webhooks import event_record, events_record, item_data

RANK_GAP = 1 << 20
Position = Literal["top", "bottom"]

EDITABLE_FIELDS = (
    "title",
    "kind",
    "description",
    "acceptance_criteria",
    "status",
    "priority",
    "estimate",
    "epic",
    "sprint",
    "assignee",
    "source",
    "external_id",
)


def lock_project(project: Project) -> Project:
    """Lock the project row: the mutex for numbering and ranking in its backlog."""
    return Project.objects.select_for_update().get(pk=project.pk)


def _clean_estimate(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        estimate = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"estimate": "Estimate must be a number of points."}) from exc
    if not estimate.is_finite() or estimate < 0 or estimate > 1000:
        raise ValidationError({"estimate": "Estimate must be between 0 and 1000 points."})
    if estimate != estimate.quantize(Decimal("0.1")):
        raise ValidationError({"estimate": "Estimate takes at most one decimal place."})
    return estimate


# Checked once per entry of a bulk upsert; `Choices.values` builds a new list on every access.
ITEM_KINDS = frozenset(ItemKind.values)
ITEM_STATUSES = frozenset(ItemStatus.values)


def validate_item_fields(project: Project, fields: dict[str, Any], item: BacklogItem | None = None) -> dict[str, Any]:
    """Check item fields against the rules; return them cleaned. Raises ValidationError."""
    errors: dict[str, str] = {}
    cleaned = dict(fields)
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title:
            errors["title"] = "A title is required."
        elif len(title) > 255:
            errors["title"] = "Keep the title under 255 characters."
        cleaned["title"] = title
    if "kind" in fields and fields["kind"] not in ITEM_KINDS:
        errors["kind"] = f"Kind must be one of {', '.join(ItemKind.values)}."
    if "status" in fields and fields["status"] not in ITEM_STATUSES:
        errors["status"] = f"Status must be one of {', '.join(ItemStatus.values)}."
    if "priority" in fields and fields["priority"] not in range(1, 6):
        errors["priority"] = "Priority must be between 1 and 5."
    if "estimate" in fields:
        try:
            cleaned["estimate"] = _clean_estimate(fields["estimate"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    epic = fields.get("epic")
    if epic is not None:
        if epic.project_id != project.pk or epic.deleted_at is not None:
            errors["epic"] = "The epic must be a live item of the same project."
        elif epic.kind != ItemKind.EPIC:
            errors["epic"] = f"{epic.key} is not an epic."
        elif item is not None and epic.pk == item.pk:
            errors["epic"] = "An item cannot be its own epic."
    kind = fields.get("kind", item.kind if item else ItemKind.STORY)
    if kind == ItemKind.EPIC and epic is not None:
        errors["epic"] = "An epic cannot belong to another epic."
    sprint = fields.get("sprint")
    if sprint is not None:
        if sprint.project_id != project.pk:
            errors["sprint"] = "The sprint must belong to the same project."
        elif sprint.state == SprintState.CLOSED:
            errors["sprint"] = f"{sprint.name} is closed."
    for name in ("source", "external_id"):
        if name in fields:
            cleaned[name] = (fields[name] or "").strip()
    if cleaned.get("external_id") and not cleaned.get("source", item.source if item else ""):
        errors["source"] = "An external id needs a source (e.g. jira or github)."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _top_rank(project: Project) -> int:
    lowest = BacklogItem.objects.filter(project=project).aggregate(m=Min("rank"))["m"]
    return RANK_GAP if lowest is None else lowest - RANK_GAP


def _bottom_rank(project: Project) -> int:
    highest = BacklogItem.objects.filter(project=project).aggregate(m=Max("rank"))["m"]
    return RANK_GAP if highest is None else highest + RANK_GAP


@transaction.atomic
def item_create(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    title: str,
    kind: str = ItemKind.STORY,
    position: Position = "bottom",
    labels: Iterable[str] = (),
    objectives: Iterable[Objective] = (),
    **fields: Any,
) -> BacklogItem:
    """Create an item at the top or bottom of the backlog. Locks the project row."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    cleaned = validate_item_fields(project, {"title": title, "kind": kind, **fields})
    project = lock_project(project)
    number = project.next_item_number
    Project.objects.filter(pk=project.pk).update(next_item_number=F("next_item_number") + 1)
    rank = _top_rank(project) if position == "top" else _bottom_rank(project)
    status = cleaned.get("status", ItemStatus.BACKLOG)
    item = BacklogItem.objects.create(
        project=project,
        number=number,
        rank=rank,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        done_at=timezone.now() if status == ItemStatus.DONE else None,
        **cleaned,
    )
    _set_labels(item, labels)
    if objectives:
        _check_objectives(project, objectives)
        item.objectives.set(objectives)
    history_record(
        workspace_id=project.workspace_id,
        project=project,
        item=item,
        sprint=item.sprint,
        actor=actor,
        action=HistoryAction.CREATED,
        changes={"status": (None, item.status), **({"sprint": (None, item.sprint_id)} if item.sprint_id else {})},
    )
    _item_changed(item, "item.created", reindex=True)
    return item


def _item_changed(item: BacklogItem, event: str, *, reindex: bool) -> None:
    """Webhook event in this transaction; re-index for suggestions after commit."""
    event_record(workspace_id=item.project.workspace_id, event=event, data=item_data(item))
    if reindex:
        dispatch("tracker.item_index_task", item.pk)


def _check_objectives(project: Project, objectives: Iterable[Objective]) -> None:
    if any(o.workspace_id != project.workspace_id for o in objectives):
        raise ValidationError({"objectives": "Objectives must belong to the same workspace."})


def _set_labels(item: BacklogItem, names: Iterable[str]) -> None:
    wanted = sorted({n.strip()[:40] for n in names if n and n.strip()})
    workspace_id = item.project.workspace_id
    existing = {label.name: label for label in Label.objects.filter(workspace_id=workspace_id, name__in=wanted)}
    missing = [Label(workspace_id=workspace_id, name=n) for n in wanted if n not in existing]
    if missing:
        Label.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {label.name: label for label in Label.objects.filter(workspace_id=workspace_id, name__in=wanted)}
    item.labels.set(existing.values())


@transaction.atomic
def item_update(
    *,
    item: BacklogItem,
    actor: AbstractBaseUser | None,
    expected_version: int | None = None,
    labels: Iterable[str] | None = None,
    objectives: Iterable[Objective] | None = None,
    **changes: Any,
) -> BacklogItem:
    """Change fields of an item, writing History and bumping its version.

    Locks the item row; raises StaleVersion when `expected_version` is not the stored one.
    A change that changes nothing writes nothing and keeps the version.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    locked = BacklogItem.objects.select_for_update().select_related("project").get(pk=item.pk)
    if locked.deleted_at is not None:
        raise ValidationError({"item": f"{locked.key} was deleted."})
    check_version(locked.version, expected_version)
    cleaned = validate_item_fields(locked.project, changes, item=locked)

    diff: dict[str, tuple[Any, Any]] = {}
    for name, value in cleaned.items():
        attname = BacklogItem._meta.get_field(name).attname
        old = getattr(locked, attname)
        new = value.pk if hasattr(value, "pk") else value
        if name == "estimate" and old is not None and new is not None and Decimal(old) == new:
            continue
        if old != new:
            diff[name] = (old, new)
            setattr(locked, attname, new)
    label_change = None
    if labels is not None:
        before = sorted(locked.labels.values_list("name", flat=True))
        _set_labels(locked, labels)
        after = sorted(locked.labels.values_list("name", flat=True))
        if before != after:
            label_change = (before, after)
    objective_change = None
    if objectives is not None:
        objectives = list(objectives)
        _check_objectives(locked.project, objectives)
        before_ids = sorted(str(pk) for pk in locked.objectives.values_list("pk", flat=True))
        locked.objectives.set(objectives)
        after_ids = sorted(str(o.pk) for o in objectives)
        if before_ids != after_ids:
            objective_change = (before_ids, after_ids)
    if not diff and not label_change and not objective_change:
        return locked

    fields = list(diff)
    if "status" in diff:
        new_status = diff["status"][1]
        if new_status == ItemStatus.DONE and locked.done_at is None:
            locked.done_at = timezone.now()
            fields.append("done_at")
        elif new_status != ItemStatus.DONE and locked.done_at is not None:
            locked.done_at = None
            fields.append("done_at")
    locked.version += 1
    attnames = [BacklogItem._meta.get_field(f).attname for f in fields]
    locked.save(update_fields=[*attnames, "version", "updated_at"])

    all_changes = dict(diff)
    if label_change:
        all_changes["labels"] = label_change
    if objective_change:
        all_changes["objectives"] = objective_change
    history_record(
        workspace_id=locked.project.workspace_id,
        project=locked.project,
        item=locked,
        sprint_id=locked.sprint_id,
        actor=actor,
        action=HistoryAction.CHANGED,
        changes=all_changes,
    )
    if "status" in diff or "sprint" in diff:
        from tracker.services.feedback import feedback_refresh_for_items

        feedback_refresh_for_items([locked.pk])
    _item_changed(locked, "item.updated", reindex="title" in diff or "description" in diff)
    return locked


@transaction.atomic
def item_delete(
    *, item: BacklogItem, actor: AbstractBaseUser | None, expected_version: int | None = None
) -> BacklogItem:
    """Tombstone an item: it disappears everywhere but stays for sync clients."""
    locked = BacklogItem.objects.select_for_update().select_related("project").get(pk=item.pk)
    if locked.deleted_at is not None:
        return locked
    check_version(locked.version, expected_version)
    locked.deleted_at = timezone.now()
    locked.version += 1
    locked.save(update_fields=["deleted_at", "version", "updated_at"])
    BacklogItem.objects.filter(epic=locked).update(epic=None)
    history_record(
        workspace_id=locked.project.workspace_id,
        project=locked.project,
        item=locked,
        sprint_id=locked.sprint_id,
        actor=actor,
        action=HistoryAction.DELETED,
    )
    from tracker.services.feedback import feedback_refresh_for_items

    feedback_refresh_for_items([locked.pk])
    _item_changed(locked, "item.deleted", reindex=True)
    return locked


def _rebalance(project: Project) -> None:
    """Respread every rank of the project RANK_GAP apart, keeping the order.

    Two steps because unique constraints are checked row by row on PostgreSQL: first move
    all ranks below zero (disjoint from the final positive values), then write the finals.
    """
    items = list(BacklogItem.objects.filter(project=project).order_by("rank").only("pk", "rank"))
    if not items:
        return
    highest = items[-1].rank
    BacklogItem.objects.filter(project=project).update(rank=F("rank") - highest - 1 - len(items) * RANK_GAP)
    for position, obj in enumerate(items, start=1):
        obj.rank = position * RANK_GAP
    BacklogItem.objects.bulk_update(items, ["rank"], batch_size=1000)


def _rank_between(lower: int | None, upper: int | None) -> int | None:
    if lower is None and upper is None:
        return RANK_GAP
    if lower is None:
        return upper - RANK_GAP  # type: ignore[operator]
    if upper is None:
        return lower + RANK_GAP
    if upper - lower < 2:
        return None
    return (lower + upper) // 2


@transaction.atomic
def item_move(
    *,
    item: BacklogItem,
    actor: AbstractBaseUser | None,
    before: BacklogItem | None = None,
    after: BacklogItem | None = None,
    position: Position | None = None,
) -> BacklogItem:
    """Move an item just before or after another one, or to the top or bottom.

    Locks the project row for the duration (moves in one backlog are serialized), then
    re-reads the neighbours' ranks, so a concurrent move can never hand out a taken rank.
    """
    choices = [before is not None, after is not None, position is not None]
    if sum(choices) != 1:
        raise ValidationError({"position": "Give exactly one of before, after or position."})
    if position is not None and position not in ("top", "bottom"):
        raise ValidationError({"position": "Position must be top or bottom."})
    anchor = before or after
    if anchor is not None:
        if anchor.project_id != item.project_id or anchor.deleted_at is not None:
            raise ValidationError(
                {"before" if before else "after": "Move relative to a live item of the same backlog."}
            )
        if anchor.pk == item.pk:
            raise ValidationError({"before" if before else "after": "An item cannot move relative to itself."})
    project = lock_project(item.project)
    for attempt in range(2):
        item.refresh_from_db(fields=["rank", "version", "deleted_at"])
        if item.deleted_at is not None:
            raise ValidationError({"item": "A deleted item cannot be moved."})
        others = BacklogItem.objects.filter(project=project).exclude(pk=item.pk)
        if position == "top":
            lower, upper = None, others.aggregate(m=Min("rank"))["m"]
        elif position == "bottom":
            lower, upper = others.aggregate(m=Max("rank"))["m"], None
        else:
            anchor_rank = BacklogItem.objects.values_list("rank", flat=True).get(pk=anchor.pk)  # type: ignore[union-attr]
            if before is not None:
                upper = anchor_rank
                lower = others.filter(rank__lt=anchor_rank).aggregate(m=Max("rank"))["m"]
            else:
                lower = anchor_rank
                upper = others.filter(rank__gt=anchor_rank).aggregate(m=Min("rank"))["m"]
        if (lower is None or lower < item.rank) and (upper is None or item.rank < upper):
            return item  # already there
        new_rank = _rank_between(lower, upper)
        if new_rank is not None:
            break
        if attempt == 1:  # pragma: no cover - a fresh rebalance always leaves gaps
            raise RuntimeError("rank rebalance left no gap")
        _rebalance(project)
    old_rank = item.rank
    item.rank = new_rank
    item.version += 1
    item.save(update_fields=["rank", "version", "updated_at"])
    history_record(
        workspace_id=project.workspace_id,
        project=project,
        item=item,
        actor=actor,
        action=HistoryAction.CHANGED,
        changes={"rank": (old_rank, new_rank)},
    )
    item.project = project
    _item_changed(item, "item.updated", reindex=False)
    return item


@transaction.atomic
def items_rerank_by(*, project: Project, actor: AbstractBaseUser | None, ordered: Sequence[BacklogItem]) -> None:
    """Put `ordered` at the top of the backlog in that order (e.g. re-rank by RICE score).

    The new ranks all lie below the current lowest rank, so they collide with nothing,
    neither the other items nor the chosen items' old ranks.
    """
    project = lock_project(project)
    if any(item.project_id != project.pk for item in ordered):
        raise ValidationError({"items": "Every item must belong to this backlog."})
    lowest = BacklogItem.objects.filter(project=project).aggregate(m=Min("rank"))["m"] or RANK_GAP
    start = lowest - (len(ordered) + 1) * RANK_GAP
    now = timezone.now()
    entries = []
    for index, item in enumerate(ordered):
        old_rank = item.rank
        item.rank = start + index * RANK_GAP
        item.version += 1
        item.updated_at = now
        entries += history_entries(
            workspace_id=project.workspace_id,
            project=project,
            item_id=item.pk,
            actor=actor,
            action=HistoryAction.CHANGED,
            changes={"rank": (old_rank, item.rank)},
            at=now,
        )
    BacklogItem.objects.bulk_update(ordered, ["rank", "version", "updated_at"], batch_size=1000)
    history_record_many(entries)
    for item in ordered:
        item.project = project
    events_record(workspace_id=project.workspace_id, events=[("item.updated", item_data(item)) for item in ordered])
