"""Rank: a BIGINT per item, unique per project, spaced RANK_GAP apart.

A move writes one row (the midpoint of its new neighbours); only when two neighbours touch
is the project's backlog respread, which is rare. Moves lock the project row, so two
concurrent moves in one backlog run one after the other and never collide.
"""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from tracker.models import BacklogItem, Project
from tracker.services.errors import ValidationError

from .write import RANK_GAP, Position, items_save, lock_items, lock_project


def _respread(project: Project) -> None:
    """Respread every rank of the project RANK_GAP apart, keeping the order.

    Two steps because unique constraints are checked row by row on PostgreSQL: first move
    all ranks below zero (disjoint from the final positive values), then write the finals.
    Every rank changes, so every item gets a new version and a change in the feed; no
    History (nobody moved anything).
    """
    ids = list(BacklogItem.objects.filter(project=project).order_by("rank").values_list("pk", flat=True))
    if not ids:
        return
    locked = lock_items(ids)
    items = sorted(locked.values(), key=lambda i: i.rank)
    highest = items[-1].rank
    BacklogItem.objects.filter(project=project).update(rank=F("rank") - highest - 1 - len(items) * RANK_GAP)
    changed = []
    for position, item in enumerate(items, start=1):
        old = item.rank
        changed.append((item, {"rank": (old, position * RANK_GAP)}))
    items_save(project=project, actor=None, changed=changed, history=False)


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
        current = lock_items([item.pk])[str(item.pk)]
        if current.deleted_at is not None:
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
        if (lower is None or lower < current.rank) and (upper is None or current.rank < upper):
            current.project = project
            return current  # already there
        new_rank = _rank_between(lower, upper)
        if new_rank is not None:
            break
        if attempt == 1:  # pragma: no cover - a fresh respread always leaves gaps
            raise RuntimeError("rank respread left no gap")
        _respread(project)
    items_save(project=project, actor=actor, changed=[(current, {"rank": (current.rank, new_rank)})])
    current.project = project
    return current


@transaction.atomic
def items_rerank_by(*, project: Project, actor: AbstractBaseUser | None, ordered: Sequence[BacklogItem]) -> None:
    """Put `ordered` at the top of the backlog in that order (e.g. re-rank by RICE score).

    The new ranks all lie below the current lowest rank, so they collide with nothing,
    neither the other items nor the chosen items' old ranks.
    """
    project = lock_project(project)
    if any(item.project_id != project.pk for item in ordered):
        raise ValidationError({"items": "Every item must belong to this backlog."})
    locked = lock_items(item.pk for item in ordered)
    lowest = BacklogItem.objects.filter(project=project).aggregate(m=Min("rank"))["m"] or RANK_GAP
    start = lowest - (len(ordered) + 1) * RANK_GAP
    changed = []
    for index, item in enumerate(ordered):
        current = locked[str(item.pk)]
        changed.append((current, {"rank": (current.rank, start + index * RANK_GAP)}))
    items_save(project=project, actor=actor, changed=changed, at=timezone.now())


def items_arrange(*, project: Project, actor: AbstractBaseUser | None, ordered: Sequence[Any]) -> int:
    """Put the items `ordered` (ids) in that order among themselves: they keep the rank
    slots they hold, so everything else in the backlog stays where it is (e.g. an import
    taking over the order of the tool it came from). Returns how many items moved.

    Two steps, as in _respread: the moved items first go below every rank in use (the
    unique constraint is checked row by row), then to their final slots.
    """
    project = lock_project(project)
    # Only what a rank change touches (an import arranges thousands of items at once).
    locked = {
        str(item.pk): item
        for item in BacklogItem.objects.select_for_update()
        .filter(pk__in=list(ordered))
        .order_by("pk")
        .only("id", "project_id", "rank", "version", "sprint_id", "status")
    }
    items = [locked[str(pk)] for pk in ordered if str(pk) in locked]
    if any(item.project_id != project.pk for item in items):
        raise ValidationError({"items": "Every item must belong to this backlog."})
    slots = sorted(item.rank for item in items)
    moves = [(item, slot) for item, slot in zip(items, slots, strict=True) if item.rank != slot]
    if not moves:
        return 0
    span = BacklogItem.objects.filter(project=project).aggregate(low=Min("rank"), high=Max("rank"))
    offset = span["high"] - span["low"] + RANK_GAP
    BacklogItem.objects.filter(pk__in=[item.pk for item, _ in moves]).update(rank=F("rank") - offset)
    changed = [(item, {"rank": (item.rank, slot)}) for item, slot in moves]
    items_save(project=project, actor=actor, changed=changed, history=False)
    return len(moves)
