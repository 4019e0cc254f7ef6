"""Durable dispatch of background work: the outbox between a change and its Celery task.

`dispatch()` writes a TaskRecord in the caller's transaction and sends the Celery message
after commit. When the broker is down the send fails, is logged, and the row stays
pending; `dispatch_sweep()` (beat, every minute, or `manage.py dispatch_sweep`) sends it
again once the broker is back. A worker runs the effect through `run_claimed()`, which
claims the row with a conditional UPDATE in the same transaction as the effect: a message
delivered twice (re-sent by the sweeper, redelivered after a worker died) finds the row
done and does nothing, and a worker killed mid-task rolls its claim back with its effect.
"""

import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError

from tracker.models import TaskRecord, TaskState

logger = logging.getLogger(__name__)

T = TypeVar("T")

INTERACTIVE = "interactive"
BULK = "bulk"
# Errors that mean "the broker did not take the message": the row stays pending.
BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, KombuError, ConnectionError, OSError, TimeoutError)


# After a send the broker refused, a request does not try again for a few seconds: its work
# waits for the sweeper either way, and it need not wait out the publish retries each time.
# The sweeper always tries. Per process.
_broker_down_until = 0.0


def broker_resting() -> bool:
    """True while a recent send failed (requests then leave their work to the sweeper)."""
    return time.monotonic() < _broker_down_until


def broker_failed() -> None:
    global _broker_down_until
    _broker_down_until = time.monotonic() + settings.BROKER_BACKOFF_SECONDS


def broker_ok() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


def dispatch(task: str, *args: Any, queue: str = INTERACTIVE) -> TaskRecord:
    """Record `task(*args)` as pending work now and send it once the transaction commits.

    `args` are ids and other JSON values; the task receives them followed by the record id.
    """
    record = TaskRecord.objects.create(task=task, args=[_plain(a) for a in args], queue=queue)
    # robust: a failing send (or, in eager mode, a failing task) must not turn the committed
    # request into an error; the row stays pending and the failure is logged.
    transaction.on_commit(lambda: task_send(record.pk, from_request=True), robust=True)
    return record


def _plain(value: Any) -> Any:
    return str(value) if not isinstance(value, str | int | float | bool | type(None)) else value


def task_send(record_id: int, *, countdown: float | None = None, from_request: bool = False) -> bool:
    """Hand the record's message to the broker. False (and the row left as it was) when the
    broker cannot be reached; the sweeper tries again later. `from_request`: not even tried
    while the broker is resting after a failure (broker_resting)."""
    if from_request and broker_resting() and not current_app.conf.task_always_eager:
        return False
    record = TaskRecord.objects.filter(pk=record_id).exclude(state=TaskState.DONE).first()
    if record is None:
        return False
    # Mark it sent before publishing: once published, a worker may finish it at any moment,
    # and this write must not race with (or overwrite) the worker's claim.
    TaskRecord.objects.filter(pk=record.pk).exclude(state=TaskState.DONE).update(
        state=TaskState.SENT, sent_at=timezone.now(), send_attempts=F("send_attempts") + 1
    )
    options: dict[str, Any] = {"queue": record.queue}
    if countdown:
        options["countdown"] = countdown
    task = _task(record.task)
    if current_app.conf.task_always_eager:
        # In-process mode: no broker to fail; the task runs here and marks the row done.
        task.apply_async(args=[*record.args, record.pk], **options)
        return True
    try:
        task.apply_async(args=[*record.args, record.pk], **options)
    except BROKER_ERRORS as exc:
        broker_failed()
        logger.warning("Broker unavailable, %s stays pending for the sweeper: %s", record, exc)
        TaskRecord.objects.filter(pk=record.pk, state=TaskState.SENT).update(
            state=TaskState.PENDING, last_error=f"send failed: {exc}"[:2000]
        )
        return False
    broker_ok()
    return True


def _task(name: str) -> Any:
    import tracker.tasks  # noqa: F401 - registers the tasks in processes that are not workers

    return current_app.tasks[name]


def run_claimed(record_id: int | None, effect: Callable[[], T]) -> T | None:
    """Run `effect` once for this record: claim and effect commit together or not at all.

    Without a record id (a task called directly) the effect simply runs in a transaction.
    Returns None, without running the effect, when the record is already done.
    """
    with transaction.atomic():
        if record_id is not None:
            claimed = (
                TaskRecord.objects.filter(pk=record_id)
                .exclude(state=TaskState.DONE)
                .update(state=TaskState.DONE, done_at=timezone.now())
            )
            if not claimed:
                logger.info("TaskRecord %s already done; skipping the repeat delivery", record_id)
                return None
        return effect()


def dispatch_sweep(*, min_age: int | None = None, resend_after: int | None = None) -> int:
    """Send again what the broker never took, and what no worker finished in time.

    Pending rows older than `min_age` seconds (younger ones are probably being sent right
    now) and sent rows older than `resend_after` seconds. Returns how many were sent.
    """
    now = timezone.now()
    min_age = settings.DISPATCH_SWEEP_MIN_AGE if min_age is None else min_age
    resend_after = settings.DISPATCH_RESEND_AFTER if resend_after is None else resend_after
    due = TaskRecord.objects.filter(
        Q(state=TaskState.PENDING, created_at__lte=now - timedelta(seconds=min_age))
        | Q(state=TaskState.SENT, sent_at__lte=now - timedelta(seconds=resend_after))
    ).order_by("created_at", "id")
    sent = 0
    for record_id in due.values_list("pk", flat=True)[:5000]:
        if not task_send(record_id):
            break  # the broker is still down: stop, the next sweep tries again
        sent += 1
    from tracker.feed.consumers import consumers_sweep
    from tracker.services.webhooks import deliveries_sweep

    sent += deliveries_sweep()
    sent += consumers_sweep()
    return sent


def dispatch_cleanup(*, keep_days: int | None = None) -> int:
    """Forget finished work older than `keep_days`."""
    keep_days = settings.DISPATCH_KEEP_DONE_DAYS if keep_days is None else keep_days
    deleted, _ = TaskRecord.objects.filter(
        state=TaskState.DONE, done_at__lt=timezone.now() - timedelta(days=keep_days)
    ).delete()
    return deleted


def pending_count(tasks: Iterable[str] | None = None) -> int:
    qs = TaskRecord.objects.exclude(state=TaskState.DONE)
    if tasks is not None:
        qs = qs.filter(task__in=list(tasks))
    return qs.count()


def record_done(record_id: int | None) -> None:
    """Mark a record done for tasks whose service claims its own work (imports, digests)."""
    if record_id is not None:
        TaskRecord.objects.filter(pk=record_id).exclude(state=TaskState.DONE).update(
            state=TaskState.DONE, done_at=timezone.now()
        )
