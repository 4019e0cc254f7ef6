"""The base class of Loopwise's tasks: bounded retries of temporary errors."""

import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError

logger = logging.getLogger("loopwise.tasks")


class LoopwiseTask(Task):
    """Temporary errors (a database restart, a dropped connection) are retried with
    exponential backoff and full jitter, a bounded number of times; anything else fails the
    task loudly and its TaskRecord stays unfinished for the sweeper and for people to see."""

    autoretry_for = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
    retry_backoff = 2
    retry_backoff_max = settings.LOOPWISE_TASK_RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = settings.LOOPWISE_TASK_MAX_RETRIES
    acks_late = True
    # Outcomes live in the database (TaskRecord, ImportJob, WebhookDelivery), not in results.
    ignore_result = True
    reject_on_worker_lost = True

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        logger.warning(
            "task retry: task=%s task_id=%s args=%r kwargs=%r error=%s: %s",
            self.name, task_id, args, kwargs, type(exc).__name__, exc,
        )  # fmt: skip

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        logger.error(
            "task failed: task=%s task_id=%s args=%r kwargs=%r error=%s: %s",
            self.name, task_id, args, kwargs, type(exc).__name__, exc,
            exc_info=(type(exc), exc, exc.__traceback__),
        )  # fmt: skip
