"""The stored customer impact of items (score, counts, segments), refreshed by the write
core whenever the links or the customers behind an item change."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from tracker.models import BacklogItem, Project

from .write import items_save, lock_items


@transaction.atomic
def items_refresh_impact(item_ids: Iterable[Any]) -> int:
    """Recompute and store impact score, counts and customer segments of these items.

    The backlog sorts by them and the API shows them, so a change is a change of the item:
    a new `updated_at` and a change in the feed, but the same version and no History:
    nobody edited it.
    The projects and then the items are locked before the links are counted, so a
    concurrent link to the same item is either counted here or recounts after us.
    Returns how many items changed.
    """
    from tracker.services.metrics import item_impacts

    ids = sorted({uuid.UUID(str(pk)) for pk in item_ids})
    if not ids:
        return 0
    project_ids = set(BacklogItem.objects.filter(pk__in=ids).values_list("project_id", flat=True))
    projects = {p.pk: p for p in Project.objects.select_for_update().filter(pk__in=project_ids).order_by("pk")}
    locked = lock_items(ids)
    changed: dict[Any, list[tuple[BacklogItem, dict[str, tuple[Any, Any]]]]] = defaultdict(list)
    for item_id, impact in item_impacts(ids).items():
        item = locked.get(str(item_id))
        if item is None:
            continue
        new = {
            "impact_score": impact.score,
            "feedback_count": impact.demand,
            "customer_count": impact.reach,
            "customer_segments": impact.known_segments,
        }
        diff = {name: (getattr(item, name), value) for name, value in new.items() if getattr(item, name) != value}
        if diff:
            changed[item.project_id].append((item, diff))
    for project_id, rows in changed.items():
        items_save(project=projects[project_id], actor=None, changed=rows, history=False)
    return sum(len(rows) for rows in changed.values())
