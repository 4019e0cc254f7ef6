"""Faults of the one Redis (Celery broker, Django cache, rate limiter store), and of the database.

A private redis-server runs on a free port; the real settings point at it (the fail-soft
cache, hence the API throttle's and the public form's counters, and Celery's broker), then
it is killed. From then on every request must answer as it would with Redis up: writes are
kept (their background work waits in the TaskRecord outbox and the change feed), reads
answer, the cache is bypassed and the limiters count per process. Skipped without
redis-server; under CI=true a missing one fails instead.

The database part needs no Redis: a query that fails because PostgreSQL went away answers a
clean 503 in the API's error shape with Retry-After.
"""

import logging
import shutil
import socket
import subprocess
import time
from unittest import mock

import pytest
import redis
from django.core.cache import cache, caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import InterfaceError, OperationalError

from config.celery import app as celery_app
from tests import factories as f
from tests.api.conftest import client_for
from tests.bg_helpers import broker
from tests.conftest import need
from tracker import models as m
from tracker import ratelimit
from tracker.api.views import items as item_views
from tracker.cache import FailSoftRedisCache, reset_outages

BASE = "/api/v1/workspaces/acme-test"
ITEMS = f"{BASE}/projects/SHOP/items/"
FEEDBACK = f"{BASE}/feedback/"
DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server, without persistence, that a test can kill."""

    def __init__(self, binary: str, workdir, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    pytest.fail(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)

    def keys(self, pattern: str) -> list[bytes]:
        return self.client.keys(pattern)

    def kill(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def fail_soft_caches(url: str, **options) -> dict:
    return {
        "default": {
            "BACKEND": "tracker.cache.FailSoftRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "loopwise",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.5, **options},
        }
    }


@pytest.fixture
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server is not installed")
    return binary


@pytest.fixture
def redis_server(redis_binary, tmp_path):
    server = RedisServer(redis_binary, tmp_path)
    yield server
    server.kill()


@pytest.fixture
def on_redis(redis_server, settings):
    """The real settings pointed at the private Redis: cache, throttle store and broker."""
    settings.CACHES = fail_soft_caches(redis_server.url)
    reset_outages()
    ratelimit.local_store.clear()
    with broker(celery_app, redis_server.url):
        yield redis_server
    reset_outages()
    ratelimit.local_store.clear()


@pytest.fixture
def api(owner, workspace, project):
    return client_for(owner, workspace)


@pytest.fixture
def redis_down(on_redis, api):
    """Redis was up and in use (a request counted in it), then it died."""
    assert api.get(ITEMS).status_code == 200
    assert on_redis.keys("loopwise:*throttle:*"), "the throttle did not count in the private Redis"
    on_redis.kill()
    return on_redis


def pending_tasks() -> int:
    return m.TaskRecord.objects.exclude(state=m.TaskState.DONE).count()


# --- With Redis up --------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_while_redis_runs_the_cache_and_the_rate_limits_live_in_it(on_redis, api, workspace, client):
    cache.set("probe", "up")
    assert api.get(ITEMS).status_code == 200
    client.post(
        f"/{workspace.slug}/feedback/new/",
        {"name": "Ann", "email": "a@example.com", "body": "Hi", "nps": "9", "website": ""},
    )

    assert cache.get("probe") == "up"
    assert on_redis.keys("loopwise:*:probe")
    assert on_redis.keys("loopwise:*throttle:token:*")
    (form_key,) = on_redis.keys("loopwise:*public-feedback:*")
    assert on_redis.client.ttl(form_key) > 0


# --- With Redis down ------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_api_lists_items(redis_down, api, project):
    f.ItemFactory(project=project, number=7, title="Visible")

    response = api.get(ITEMS)

    assert response.status_code == 200
    assert "Visible" in response.content.decode()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_posted_feedback_is_created_and_kept(redis_down, api, workspace):
    response = api.post(FEEDBACK, {"body": "Search is slow", "customer_email": "ada@example.com"}, format="json")

    assert response.status_code == 201
    assert m.Feedback.objects.filter(workspace=workspace, body="Search is slow").exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_public_form_thanks_and_stores_the_feedback(redis_down, client, workspace):
    response = client.post(
        f"/{workspace.slug}/feedback/new/",
        {"name": "Ann", "email": "ann@example.com", "body": "Please add gift wrapping", "nps": "9", "website": ""},
    )

    assert response.status_code == 200 and b"Thank you" in response.content
    assert m.Feedback.objects.filter(workspace=workspace, body="Please add gift wrapping").exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_web_page_renders(redis_down, client, owner, workspace, project):
    client.force_login(owner)

    response = client.get(f"/{workspace.slug}/{project.key}/backlog/")

    assert response.status_code == 200


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_an_upload_is_imported_later_and_waits_in_the_outbox(redis_down, client, owner, workspace):
    client.force_login(owner)
    csv = b"Review,E-mail\nSearch is broken,ann@example.com\n"

    response = client.post(
        f"/{workspace.slug}/imports/", {"file": SimpleUploadedFile("reviews.csv", csv), "kind": "feedback"}
    )

    assert response.status_code == 302
    job = m.ImportJob.objects.get(workspace=workspace)
    assert job.status == m.ImportStatus.PREVIEW
    assert client.post(f"/{workspace.slug}/imports/{job.pk}/", {"action": "import"}).status_code == 302
    job.refresh_from_db()
    record = m.TaskRecord.objects.get(task="tracker.import_run_task")
    assert (job.status, record.state) == (m.ImportStatus.QUEUED, m.TaskState.PENDING)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_hundred_mixed_api_writes_are_all_answered_and_kept(redis_down, api, workspace, project):
    statuses = []
    for i in range(100):
        kind = i % 3
        if kind == 0:
            response = api.post(ITEMS, {"title": f"Item {i}"}, format="json")
        elif kind == 1:
            response = api.post(FEEDBACK, {"body": f"Feedback {i}", "customer_email": "c@example.com"}, format="json")
        else:
            number = m.BacklogItem.objects.filter(project=project).order_by("number").first().number
            response = api.patch(f"{ITEMS}{number}/", {"title": f"Patched {i}"}, format="json")
        statuses.append(response.status_code)

    assert [s for s in statuses if s == 429 or s >= 500] == []
    assert set(statuses) <= {200, 201}
    assert m.BacklogItem.objects.filter(project=project).count() == 34
    assert m.Feedback.objects.filter(workspace=workspace, body__startswith="Feedback ").count() == 33
    assert m.BacklogItem.objects.filter(project=project, title="Patched 98").exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_api_limiter_still_limits_per_process(redis_down, api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "5/hour"}}

    statuses = [api.get(ITEMS).status_code for _ in range(8)]

    assert statuses[:5] == [200] * 5
    assert 429 in statuses
    refused = api.get(ITEMS)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "throttled"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_public_form_still_limits_per_process(redis_down, client, workspace):
    fields = {"name": "Ann", "email": "ann@example.com", "body": "Again", "nps": "9", "website": ""}

    statuses = [client.post(f"/{workspace.slug}/feedback/new/", fields).status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    assert m.Feedback.objects.filter(workspace=workspace, body="Again").count() == 5


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_when_redis_comes_back_the_cache_and_the_limiter_use_it_again(
    redis_down, redis_binary, tmp_path, api, settings
):
    settings.CACHES = fail_soft_caches(redis_down.url, RETRY_AFTER=0)  # try Redis on every call
    assert api.get(ITEMS).status_code == 200  # counted in this process
    revived = RedisServer(redis_binary, tmp_path, port=redis_down.port)
    try:
        cache.set("probe", "back")
        assert api.get(ITEMS).status_code == 200

        assert revived.keys("loopwise:*throttle:token:*")
        assert cache.get("probe") == "back"
    finally:
        revived.kill()


# --- The fail-soft cache and limiter on their own (no redis-server needed) -------------------


@pytest.fixture
def dead_redis(settings):
    settings.CACHES = fail_soft_caches(DEAD)
    reset_outages()
    ratelimit.local_store.clear()
    yield caches["default"]
    reset_outages()
    ratelimit.local_store.clear()


def test_the_fail_soft_cache_misses_and_ignores_writes_while_redis_is_down(dead_redis):
    assert isinstance(dead_redis, FailSoftRedisCache)
    dead_redis.set("k", "v")

    assert dead_redis.get("k", "default") == "default"
    assert dead_redis.get_or_set("k", "computed") == "computed"
    assert (dead_redis.add("k", 1), dead_redis.delete("k"), dead_redis.has_key("k")) == (False, False, False)
    assert dead_redis.get_many(["k"]) == {}
    assert dead_redis.set_many({"a": 1}) == ["a"]
    with pytest.raises(ValueError):
        dead_redis.incr("k")


def test_a_redis_outage_is_logged_once_by_the_cache_and_once_by_the_limiter(dead_redis, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            dead_redis.get("k")
            ratelimit.window_counts("throttle:t:x", 1, 60)
            reset_outage_only()

    by_logger = [r.name for r in caplog.records if r.levelno == logging.WARNING]
    assert by_logger.count("tracker.cache") == 1
    assert by_logger.count("tracker.ratelimit") == 1


def reset_outage_only() -> None:
    # Forget "Redis is down" but not the warnings: every call reaches the dead Redis again.
    cache.outage.reset()


def test_without_redis_the_limiter_counts_in_this_process(dead_redis):
    for _ in range(3):
        ratelimit.window_counts("throttle:t:y", 41, 60)

    assert ratelimit.window_counts("throttle:t:y", 42, 60) == (3, 1)
    assert [ratelimit.hit("form:z", 3600) for _ in range(3)] == [1, 2, 3]


# --- The database going away ----------------------------------------------------------------


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_that_goes_away_mid_request_answers_503_in_the_error_shape(api, error):
    with mock.patch.object(
        item_views.ItemListView, "get_queryset", side_effect=error("server closed the connection unexpectedly")
    ):
        response = api.get(ITEMS)

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    body = response.json()
    assert body["code"] == "unavailable" and body["fields"] == {}
    assert "retry" in body["message"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_host_stays_ready_and_says_it_is_degraded(redis_down, client, settings):
    settings.REDIS_URL = redis_down.url
    response = client.get("/readyz")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["degraded"]) == ("degraded", ["redis"])
