from celery import shared_task

from tracker.services.dispatch import record_done
from tracker.services.notifications import sprint_notify_customers
from tracker.tasks.base import LoopwiseTask


@shared_task(base=LoopwiseTask, name="tracker.sprint_notify_task")
def sprint_notify_task(sprint_id: str, record_id: int | None = None) -> int:
    """Send the sprint's digests. The service claims each digest before sending it, so a
    retry or a repeat delivery never e-mails a customer twice."""
    sent = sprint_notify_customers(sprint_id=sprint_id)
    record_done(record_id)
    return sent
