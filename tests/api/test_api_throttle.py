"""The API rate limit: a sliding-window counter of constant size in the cache."""

import os
from unittest import mock

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from tracker.api import throttling
from tracker.api.throttling import window_counts

REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/13"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request):
    config = LOCMEM if request.param == "locmem" else REDIS
    if request.param == "redis":
        request.getfixturevalue("redis_available")
    with override_settings(CACHES=config):
        caches["default"].clear()
        yield request.param
        caches["default"].clear()


@pytest.fixture
def redis_available():
    try:
        redis.Redis.from_url(REDIS["default"]["LOCATION"]).ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")


def test_each_request_adds_one_to_its_window_and_reads_the_one_before(cache_backend):
    for _ in range(3):
        window_counts("throttle:t:a", 99, 60)

    assert window_counts("throttle:t:a", 100, 60) == (3, 1)
    assert window_counts("throttle:t:a", 100, 60) == (3, 2)


def test_the_counter_stays_one_integer_however_many_requests(cache_backend):
    for _ in range(500):
        window_counts("throttle:t:b", 7, 60)

    assert int(caches["default"].get("throttle:t:b:7")) == 500


def throttled(at, make_request, count):
    """Status codes of `count` requests when the clock reads `at` seconds."""
    with mock.patch.object(throttling.time, "time", return_value=at):
        return [make_request().status_code for _ in range(count)]


def test_a_burst_just_after_a_window_starts_still_counts_the_window_before(db, settings, cache_backend):
    from rest_framework.test import APIClient

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/min"}}
    client = APIClient()

    def get():
        return client.get("/api/v1/workspaces/")

    assert throttled(6000 + 59, get, 3) == [401, 401, 401]
    # One second into the next minute the three earlier requests still weigh 59/60 each.
    assert throttled(6060 + 1, get, 1) == [429]
