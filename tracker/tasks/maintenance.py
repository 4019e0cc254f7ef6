"""Periodic jobs started by celery beat (schedule in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from tracker.services import periodic
from tracker.services.dispatch import dispatch_cleanup, dispatch_sweep
from tracker.tasks.base import LoopwiseTask


@shared_task(base=LoopwiseTask, name="tracker.dispatch_sweep_task")
def dispatch_sweep_task() -> int:
    sent = dispatch_sweep()
    dispatch_cleanup()
    return sent


@shared_task(base=LoopwiseTask, name="tracker.burndown_snapshot_task")
def burndown_snapshot_task() -> int:
    return periodic.burndown_snapshot_all()


@shared_task(base=LoopwiseTask, name="tracker.metrics_rollup_task")
def metrics_rollup_task() -> int:
    return periodic.metrics_rollup_all()


@shared_task(base=LoopwiseTask, name="tracker.untriaged_reminders_task")
def untriaged_reminders_task() -> int:
    return periodic.untriaged_reminders_send()


@shared_task(base=LoopwiseTask, name="tracker.idempotency_cleanup_task")
def idempotency_cleanup_task() -> int:
    """Hourly: expired idempotency keys, and import previews nobody started."""
    from tracker.services.imports import import_previews_cleanup

    return periodic.idempotency_keys_cleanup() + import_previews_cleanup()
