"""The base class of Loopwise's tasks: bounded retries of temporary errors."""

from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError


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
