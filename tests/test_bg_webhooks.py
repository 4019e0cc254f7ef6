"""Webhooks: events recorded with the change, signed deliveries, retries, redelivery."""

import hashlib
import hmac
import json

import pytest

from tests.bg_helpers import Receiver, consume, webhook
from tracker.models import DeliveryStatus, ItemStatus, WebhookDelivery
from tracker.services import webhooks as w
from tracker.services.backlog import item_create, item_delete, item_update
from tracker.services.feedback import feedback_create, feedback_link
from tracker.services.sprints import sprint_add_items, sprint_close, sprint_create, sprint_start


def verify(secret: str, request: dict) -> bool:
    timestamp = request["headers"]["X-Loopwise-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-Loopwise-Signature"], f"sha256={expected}")


def test_core_changes_record_their_events_in_the_same_transaction(workspace, project):
    webhook(workspace, "https://hooks.example.com/in")
    webhook(workspace, "https://other.example.com/in", events=["sprint.closed"])
    item = item_create(project=project, actor=None, title="Search")
    item_update(item=item, actor=None, title="Search saved posts")
    sprint = sprint_create(project=project, actor=None)
    sprint_add_items(sprint=sprint, items=[item], actor=None)
    sprint_start(sprint=sprint, actor=None)
    fb = feedback_create(workspace=workspace, actor=None, body="Please add search")
    feedback_link(feedback=fb, item=item, actor=None)
    item_update(item=item, actor=None, status=ItemStatus.DONE)
    sprint_close(sprint=sprint, actor=None)
    item_delete(item=item, actor=None)
    consume(workspace)
    events = list(WebhookDelivery.objects.order_by("created_at", "event").values_list("webhook__url", "event"))
    first = [e for url, e in events if url.startswith("https://hooks")]
    assert sorted(first) == sorted(
        [
            "item.created",
            "item.updated",  # the title
            "item.updated",  # planned into the sprint
            "item.updated",  # done
            "sprint.started",
            "feedback.created",
            "feedback.addressed",
            "sprint.closed",
            "item.deleted",
        ]
    )
    assert [e for url, e in events if url.startswith("https://other")] == ["sprint.closed"]


def test_rank_moves_and_re_ranking_record_item_updates(workspace, project):
    from tracker.services.backlog import item_move, items_rerank_by

    webhook(workspace, "https://hooks.example.com/in", events=["item.updated"])
    first, second = (item_create(project=project, actor=None, title=t) for t in ("A", "B"))
    item_move(item=second, actor=None, position="top")
    items_rerank_by(project=project, actor=None, ordered=[first])
    consume(workspace)
    keys = [d.payload["data"]["key"] for d in WebhookDelivery.objects.order_by("created_at")]
    assert keys == [second.key, first.key]


def test_nothing_is_recorded_without_webhooks(workspace, project):
    item_create(project=project, actor=None, title="Search")
    consume(workspace)
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_is_signed_and_marked_delivered(workspace, project):
    with Receiver([200]) as receiver:
        hook = webhook(workspace, receiver.url)
        item = item_create(project=project, actor=None, title="Search")
        consume(workspace)
        delivery = WebhookDelivery.objects.get()
        result = w.delivery_attempt(delivery.pk)
    assert result.status == DeliveryStatus.DELIVERED and result.response_code == 200
    request = receiver.requests[0]
    assert verify(hook.secret, request)
    body = json.loads(request["body"])
    assert body["event"] == "item.created" and body["data"]["key"] == item.key
    assert request["headers"]["X-Loopwise-Delivery"] == str(delivery.pk)


def test_a_server_error_is_retried_with_backoff_then_succeeds(workspace, project):
    with Receiver([500, 200]) as receiver:
        webhook(workspace, receiver.url)
        item_create(project=project, actor=None, title="Search")
        consume(workspace)
        delivery = WebhookDelivery.objects.get()
        first = w.delivery_attempt(delivery.pk)
        assert first.status == DeliveryStatus.PENDING and first.response_code == 500
        assert first.next_attempt_at is not None
        assert w.delivery_attempt(delivery.pk) is None  # not due yet: nothing is sent
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=first.created_at)
        second = w.delivery_attempt(delivery.pk)
    assert second.status == DeliveryStatus.DELIVERED and second.attempts == 2
    assert len(receiver.requests) == 2


def test_after_the_last_attempt_a_delivery_fails(workspace, project, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver([500]) as receiver:
        webhook(workspace, receiver.url)
        item_create(project=project, actor=None, title="Search")
        consume(workspace)
        delivery = WebhookDelivery.objects.get()
        w.delivery_attempt(delivery.pk)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        last = w.delivery_attempt(delivery.pk)
    assert last.status == DeliveryStatus.FAILED and last.attempts == 2


def test_private_targets_are_refused_unless_allowed(workspace, project):
    with Receiver([200]) as receiver:
        webhook(workspace, receiver.url, allow_private=False)
        item_create(project=project, actor=None, title="Search")
        consume(workspace)
        result = w.delivery_attempt(WebhookDelivery.objects.get().pk)
    assert receiver.requests == []
    assert "loopback" in result.error and result.status == DeliveryStatus.PENDING


def test_redirects_are_rechecked_and_followed(workspace, project):
    with Receiver([200]) as target, Receiver([(307, None)]) as hop:
        hop.statuses = [(307, target.url)]
        webhook(workspace, hop.url)
        item_create(project=project, actor=None, title="Search")
        consume(workspace)
        result = w.delivery_attempt(WebhookDelivery.objects.get().pk)
    assert result.status == DeliveryStatus.DELIVERED and len(target.requests) == 1


def test_redeliver_sends_the_event_again_as_a_new_delivery(workspace, project, django_capture_on_commit_callbacks):
    with Receiver([200]) as receiver:
        webhook(workspace, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            item_create(project=project, actor=None, title="Search")
        original = WebhookDelivery.objects.get()
        assert original.status == DeliveryStatus.DELIVERED  # sent by the in-process task on commit
        with django_capture_on_commit_callbacks(execute=True):
            copy = w.webhook_redeliver(delivery=original)
    copy.refresh_from_db()
    assert copy.pk != original.pk and copy.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("attempts", [1, 3, 6])
def test_retry_delays_grow_exponentially_with_jitter(attempts, settings):
    settings.WEBHOOK_RETRY_BASE = 10
    base = 10 * 2 ** (attempts - 1)
    assert 0.75 * base <= w.retry_delay(attempts) <= 1.25 * base
