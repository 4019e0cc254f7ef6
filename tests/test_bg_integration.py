"""Background work against the real local Redis (database 3) with a real Celery worker
running in the test session. Skipped on a machine without Redis; under CI=true they fail
instead of skipping."""

import os
import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db.utils import OperationalError

from config.celery import app as celery_app
from tests import factories as f
from tests.bg_helpers import Receiver, broker, webhook
from tests.conftest import need, port_open
from tracker.models import (
    CustomerNotification,
    DeliveryStatus,
    Feedback,
    ImportJob,
    ImportStatus,
    ItemStatus,
    Suggestion,
    TaskRecord,
    TaskState,
    WebhookDelivery,
)
from tracker.services.backlog import item_create, item_update
from tracker.services.dispatch import dispatch_sweep, task_send
from tracker.services.feedback import feedback_create, feedback_link
from tracker.services.imports import import_start
from tracker.services.sprints import sprint_add_items, sprint_close, sprint_create, sprint_start

REDIS_URL = os.environ.get("LOOPWISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
DEAD_BROKER = "redis://127.0.0.1:1/3"

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for(condition: Callable[[], bool], timeout: float = 120, what: str = "the worker") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:
            pass  # SQLite's shared in-memory test database: the worker thread holds a lock
        time.sleep(0.1)
    pytest.fail(f"Timed out waiting for {what}")


@pytest.fixture
def redis_broker():
    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with broker(celery_app, REDIS_URL):
        yield celery_app


def worker(app):
    """A real worker in a thread. Tests start it after writing their data: SQLite's shared
    in-memory test database does not take concurrent writers (PostgreSQL would)."""
    return start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=["interactive", "bulk", "feed"]
    )


def test_feedback_import_end_to_end_with_progress_and_report(workspace, redis_broker, settings):
    settings.IMPORT_BATCH_SIZE = 50
    rows = "text,email,id,nps\n" + "".join(f"Feedback {i},c{i % 7}@example.com,x{i},{i % 11}\n" for i in range(300))
    rows += ",nobody@example.com,bad1,3\n"
    job = import_start(workspace=workspace, actor=None, kind="feedback", filename="f.csv", data=rows.encode())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED
    with worker(redis_broker):
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE, what="the import")
    job.refresh_from_db()
    assert (job.rows_total, job.rows_done, job.created, job.error_count) == (301, 301, 300, 1)
    assert job.errors == [{"line": 302, "reason": "The text is empty"}]
    assert Feedback.objects.filter(workspace=workspace).count() == 300
    assert TaskRecord.objects.get(task="tracker.import_run_task").state == TaskState.DONE


def test_sprint_close_sends_each_digest_once(workspace, project, redis_broker):
    ann = f.CustomerFactory(workspace=workspace, name="Ann", email="ann@example.com")
    sprint = sprint_create(project=project, actor=None, name="Sprint Owl")
    item = item_create(project=project, actor=None, title="Search in saved posts")
    sprint_add_items(sprint=sprint, items=[item], actor=None)
    sprint_start(sprint=sprint, actor=None)
    fb = feedback_create(workspace=workspace, actor=None, customer=ann, body="I cannot search saved posts")
    feedback_link(feedback=fb, item=item, actor=None)
    item_update(item=item, actor=None, status=ItemStatus.DONE)
    sprint_close(sprint=sprint, actor=None)
    record = TaskRecord.objects.get(task="tracker.sprint_notify_task")
    # The same message delivered twice (a retry, the sweeper) must send one e-mail.
    assert task_send(record.pk)
    with worker(redis_broker):
        wait_for(lambda: TaskRecord.objects.get(pk=record.pk).state == TaskState.DONE, what="the digest task")
        wait_for(lambda: not TaskRecord.objects.exclude(state=TaskState.DONE).exists(), what="every task")
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert CustomerNotification.objects.get().feedback.get() == fb


def test_webhook_delivery_is_signed_and_retried_after_a_server_error(workspace, project, redis_broker, settings):
    settings.WEBHOOK_RETRY_BASE = 1
    with Receiver([500, 200]) as receiver:
        hook = webhook(workspace, receiver.url)
        item_create(project=project, actor=None, title="Search")
        # The change waits in the feed; the feed consumer (in the worker) writes the delivery.
        assert not WebhookDelivery.objects.exists()
        with worker(redis_broker):
            wait_for(
                lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists(),
                what="the webhook retry",
            )
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 2 and delivery.response_code == 200
    from tests.test_bg_webhooks import verify

    assert [verify(hook.secret, r) for r in receiver.requests] == [True, True]


def test_redis_down_then_up_nothing_is_lost(workspace, redis_broker):
    earlier = Feedback.objects.create(
        workspace=workspace, body="Crashes on start every time", received_at="2024-01-01T00:00Z"
    )
    from tracker.services.similarity import feedback_index

    feedback_index([earlier])
    with broker(celery_app, DEAD_BROKER):
        feedback = feedback_create(workspace=workspace, actor=None, body="The app crashes on start")
    assert Feedback.objects.filter(pk=feedback.pk).exists()
    assert not Suggestion.objects.filter(feedback=feedback).exists()
    # Redis is back (redis_broker): the sweeper wakes the feed's consumers, a worker runs them.
    assert dispatch_sweep(min_age=0) == 1
    with worker(redis_broker):
        wait_for(
            lambda: Suggestion.objects.filter(feedback=feedback, similar_feedback=earlier).exists(),
            what="the suggestions of the swept feed",
        )


def test_with_redis_down_the_web_form_and_the_api_still_take_feedback_and_suggest_once_it_is_back(
    workspace, owner, redis_broker, client
):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from tracker.services.similarity import feedback_index
    from tracker.services.tokens import token_create

    earlier = Feedback.objects.create(
        workspace=workspace, body="The app crashes on start", received_at="2024-01-01T00:00Z"
    )
    feedback_index([earlier])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(workspace=workspace, user=owner, name='t').secret}")
    cache.clear()
    with broker(celery_app, DEAD_BROKER):
        form = client.post(
            f"/{workspace.slug}/feedback/new/",
            {"name": "Ann", "email": "ann@example.com", "body": "The app crashes on start again", "website": ""},
        )
        created = api.post(
            f"/api/v1/workspaces/{workspace.slug}/feedback/", {"body": "Crashes on start"}, format="json"
        )
    assert form.status_code == 200 and b"Thank you" in form.content
    assert created.status_code == 201
    assert Feedback.objects.filter(workspace=workspace).count() == 3
    fresh = Feedback.objects.exclude(pk=earlier.pk)
    assert not Suggestion.objects.filter(feedback__in=fresh).exists()
    # Redis is back: the sweeper wakes the feed's consumers and a real worker runs them.
    assert dispatch_sweep(min_age=0) == 1
    with worker(redis_broker):
        wait_for(
            lambda: Suggestion.objects.filter(feedback__in=fresh, similar_feedback=earlier).count() == 2,
            what="the suggestions of both entries",
        )
