"""Celery tasks: thin wrappers that take ids, re-fetch, and call one service.

Every task is safe to run twice; see tracker.services.dispatch for how work is claimed.
"""

from tracker.tasks.feed import feed_consume_task, feed_prune_task
from tracker.tasks.imports import import_run_task
from tracker.tasks.maintenance import (
    burndown_snapshot_task,
    dispatch_sweep_task,
    idempotency_cleanup_task,
    metrics_rollup_task,
    untriaged_reminders_task,
)
from tracker.tasks.notifications import sprint_notify_task
from tracker.tasks.similarity import feedback_suggest_task, item_index_task, similarity_reindex_task
from tracker.tasks.webhooks import webhook_deliver_task

__all__ = [
    "burndown_snapshot_task",
    "dispatch_sweep_task",
    "feed_consume_task",
    "feed_prune_task",
    "feedback_suggest_task",
    "idempotency_cleanup_task",
    "import_run_task",
    "item_index_task",
    "metrics_rollup_task",
    "similarity_reindex_task",
    "sprint_notify_task",
    "untriaged_reminders_task",
    "webhook_deliver_task",
]
