"""Webhooks out: events recorded as deliveries in the change's transaction, then sent.

Events: item.created, item.updated, item.deleted, sprint.started, sprint.closed,
feedback.created, feedback.addressed. `event_record()` is called by the core services
inside their transaction; it writes one WebhookDelivery per active subscribed webhook (the
outbox) and sends the delivery tasks after commit. `delivery_attempt()` is what the task
runs: it claims the attempt with a conditional UPDATE (so two copies of the task never
post twice at the same time), posts outside any transaction, and records the outcome.

Each request carries
    X-Loopwise-Event: item.updated
    X-Loopwise-Delivery: <delivery uuid>           (receivers de-duplicate on it)
    X-Loopwise-Timestamp: <unix seconds>
    X-Loopwise-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
Delivery is at least once: a worker dying after the receiver answered repeats the post.
"""

import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tracker.models import BacklogItem, DeliveryStatus, Feedback, Sprint, Webhook, WebhookDelivery
from tracker.services.errors import ValidationError
from tracker.services.urlsafety import check_outgoing_url

logger = logging.getLogger(__name__)

EVENTS = (
    "item.created",
    "item.updated",
    "item.deleted",
    "sprint.started",
    "sprint.closed",
    "feedback.created",
    "feedback.addressed",
)
MAX_REDIRECTS = 3
EXCERPT = 1000
USER_AGENT = "Loopwise-Webhooks/1"


# --- Payloads ------------------------------------------------------------------------------


def item_data(item: BacklogItem) -> dict[str, Any]:
    return {
        "id": str(item.pk),
        "key": item.key,
        "project": item.project.key,
        "title": item.title,
        "kind": item.kind,
        "status": item.status,
        "priority": item.priority,
        "estimate": float(item.estimate) if item.estimate is not None else None,
        "sprint": str(item.sprint_id) if item.sprint_id else None,
        "source": item.source,
        "external_id": item.external_id,
        "version": item.version,
        "deleted": item.deleted_at is not None,
    }


def sprint_data(sprint: Sprint) -> dict[str, Any]:
    return {
        "id": str(sprint.pk),
        "project": sprint.project.key,
        "number": sprint.number,
        "name": sprint.name,
        "state": sprint.state,
        "start_date": sprint.start_date,
        "end_date": sprint.end_date,
        "completed_points": float(sprint.completed_points) if sprint.completed_points is not None else None,
        "version": sprint.version,
    }


def feedback_data(feedback: Feedback) -> dict[str, Any]:
    return {
        "id": str(feedback.pk),
        "title": feedback.title,
        "body": feedback.body,
        "channel": feedback.channel,
        "customer": str(feedback.customer_id) if feedback.customer_id else None,
        "loop_state": feedback.loop_state,
        "received_at": feedback.received_at,
        "source": feedback.source,
        "external_id": feedback.external_id,
        "version": feedback.version,
    }


# --- Recording (inside the change's transaction) ------------------------------------------


def _subscribed(workspace_id: Any, event: str) -> list[Webhook]:
    hooks = Webhook.objects.filter(workspace_id=workspace_id, is_active=True).only("pk", "events")
    return [h for h in hooks if not h.events or event in h.events]


def event_record(*, workspace_id: Any, event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Write a delivery of `event` for every active webhook of the workspace that wants it.

    Call inside the transaction of the change: the deliveries commit with it or not at all.
    One query when nobody listens.
    """
    return events_record(workspace_id=workspace_id, events=[(event, data)])


def events_record(*, workspace_id: Any, events: Iterable[tuple[str, dict[str, Any]]]) -> list[WebhookDelivery]:
    """Many events at once (e.g. every feedback a sprint close addressed): one webhook query."""
    events = list(events)
    if not events:
        return []
    hooks = list(Webhook.objects.filter(workspace_id=workspace_id, is_active=True).only("pk", "events"))
    if not hooks:
        return []
    now = timezone.now()
    rows = []
    for event, data in events:
        if event not in EVENTS:
            raise ValueError(f"Unknown webhook event {event!r}")
        body = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
        for hook in hooks:
            if hook.events and event not in hook.events:
                continue
            rows.append(
                WebhookDelivery(
                    webhook_id=hook.pk,
                    event=event,
                    payload={"event": event, "created_at": now.isoformat(), "data": body},
                )
            )
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: deliveries_send(ids), robust=True)
    return rows


def deliveries_send(delivery_ids: Iterable[Any], *, countdown: float | None = None) -> int:
    """Queue the delivery tasks; a broker outage leaves them pending for the sweeper."""
    from tracker.services.dispatch import BROKER_ERRORS, _task

    task = _task("tracker.webhook_deliver_task")
    sent = 0
    for delivery_id in delivery_ids:
        try:
            task.apply_async(args=[str(delivery_id)], queue="interactive", countdown=countdown)
        except BROKER_ERRORS as exc:
            logger.warning("Broker unavailable; webhook delivery %s waits for the sweeper: %s", delivery_id, exc)
            return sent
        sent += 1
    return sent


def deliveries_sweep(*, min_age: int | None = None) -> int:
    """Send the deliveries that are due: never sent (broker was down) or due for a retry."""
    now = timezone.now()
    min_age = settings.DISPATCH_SWEEP_MIN_AGE if min_age is None else min_age
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(seconds=min_age)) | Q(next_attempt_at__lte=now)
    )
    ids = list(due.order_by("created_at").values_list("pk", flat=True)[:5000])
    return deliveries_send(ids)


# --- Delivering (in the task, outside transactions) ---------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delay(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential from WEBHOOK_RETRY_BASE, capped at a
    day, with ±25% jitter so a receiver coming back is not hit by every retry at once."""
    base = settings.WEBHOOK_RETRY_BASE * (2 ** max(0, attempts - 1))
    return min(base, 24 * 3600) * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not secrets


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # we follow redirects ourselves, re-checking each target


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str], allow_private: bool) -> tuple[int, str]:
    """POST, following at most MAX_REDIRECTS redirects whose targets pass the URL check."""
    for _hop in range(MAX_REDIRECTS + 1):
        check_outgoing_url(url, allow_private=allow_private)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked above
        try:
            with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
                return response.status, response.read(EXCERPT).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location") if exc.code in (301, 302, 303, 307, 308) else None
            if not location:
                return exc.code, exc.read(EXCERPT).decode("utf-8", "replace")
            url = urljoin(url, location)
    raise ValidationError({"url": f"More than {MAX_REDIRECTS} redirects."})


def delivery_attempt(delivery_id: Any) -> WebhookDelivery | None:
    """One attempt at a delivery; returns it, or None when another attempt holds it or it is
    no longer pending. On failure it schedules the next attempt or, at the limit, fails."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT * (MAX_REDIRECTS + 1) + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=lease)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    body = json.dumps({"id": str(delivery.pk), **delivery.payload}, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Loopwise-Event": delivery.event,
        "X-Loopwise-Delivery": str(delivery.pk),
        "X-Loopwise-Timestamp": str(timestamp),
        "X-Loopwise-Signature": sign(webhook.secret, timestamp, body),
    }
    code: int | None = None
    excerpt = ""
    error = ""
    if not webhook.is_active:
        error = "The webhook was deactivated."
    else:
        try:
            code, excerpt = _post(webhook.url, body, headers, webhook.allow_private)
        except ValidationError as exc:
            error = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    ok = code is not None and 200 <= code < 300
    fields: dict[str, Any] = {"response_code": code, "response_excerpt": excerpt, "error": error[:2000]}
    retry_in = None
    if ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None)
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS or not webhook.is_active:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        retry_in = retry_delay(delivery.attempts)
        fields.update(next_attempt_at=timezone.now() + timedelta(seconds=retry_in))
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        **fields, updated_at=timezone.now(), version=F("version") + 1
    )
    if retry_in is not None:
        logger.info("Webhook delivery %s failed (%s %s); retry in %.0fs", delivery.pk, code, error, retry_in)
        if not _eager():
            deliveries_send([delivery.pk], countdown=retry_in)
    delivery.refresh_from_db()
    return delivery


def _eager() -> bool:
    from celery import current_app

    # In-process mode has no delayed queue: a countdown would run at once and hammer the
    # receiver, so retries there wait for the sweeper instead.
    return bool(current_app.conf.task_always_eager)


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery (the log keeps the old one)."""
    copy = WebhookDelivery.objects.create(
        webhook_id=delivery.webhook_id, event=delivery.event, payload=delivery.payload
    )
    transaction.on_commit(lambda: deliveries_send([copy.pk]), robust=True)
    return copy


redeliver = webhook_redeliver
