"""Pruning the change feed after its retention (FEED_RETENTION_DAYS, 30 by default).

A cursor that points into the pruned part answers 410 "resync"; an `updated_since` before
the retained part is served as a snapshot of the current objects (tracker.feed.sync).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tracker.feed.read import horizon
from tracker.models import Change, FeedState, Workspace

CHUNK = 10_000


def feed_prune(*, days: int | None = None) -> int:
    """Delete changes older than the retention, workspace by workspace; how many went."""
    days = settings.FEED_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    below = horizon()
    deleted = 0
    for workspace in Workspace.objects.only("pk", "created_at"):
        old = Change.objects.filter(workspace=workspace, at__lt=cutoff)
        if below is not None:
            old = old.filter(xid__lt=below)  # never a change a reader could still be waiting for
        while True:
            with transaction.atomic():
                chunk = list(old.order_by("xid", "id").values_list("xid", "id")[:CHUNK])
                if not chunk:
                    break
                Change.objects.filter(pk__in=[pk for _, pk in chunk]).delete()
                state, _ = FeedState.objects.select_for_update().get_or_create(
                    workspace=workspace, defaults={"started_at": workspace.created_at}
                )
                state.pruned_xid, state.pruned_id = max((state.pruned_xid, state.pruned_id), chunk[-1])
                state.started_at = max(state.started_at, cutoff)
                state.save(update_fields=["pruned_xid", "pruned_id", "started_at"])
            deleted += len(chunk)
    return deleted
