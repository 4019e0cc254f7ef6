from celery import shared_task

from tracker.services.webhooks import delivery_attempt
from tracker.tasks.base import LoopwiseTask


@shared_task(base=LoopwiseTask, name="tracker.webhook_deliver_task")
def webhook_deliver_task(delivery_id: str) -> str | None:
    """One attempt; failures are rescheduled by the service with backoff, not by Celery."""
    delivery = delivery_attempt(delivery_id)
    return delivery.status if delivery is not None else None
