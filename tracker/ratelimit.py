"""Counters for rate limits: in the shared cache (Redis) when it answers, else in this process.

Both the API throttle (tracker.api.throttling) and the public feedback form
(tracker.web.views_public) count requests here. With a Redis cache the counters are one
pipeline round trip and shared by every process. When Redis does not answer, counting goes
on in a per-process in-memory store: each process then limits on its own (a deployment of N
processes lets up to N times the limit through) instead of refusing or failing every
request. A warning says so at most once a minute per process; the shared counters are used
again as soon as Redis answers (see tracker.cache.Outage).
"""

from __future__ import annotations

import logging

from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from tracker.cache import REDIS_ERRORS, WarnEvery, outage_for

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
# Per-process counters while the shared store is down; LocMemCache is thread-safe and
# culls its oldest entries beyond MAX_ENTRIES, so memory stays bounded.
local_store = LocMemCache("loopwise-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 50_000}})
_warn = WarnEvery(logger)


def _store() -> tuple[BaseCache, RedisCache | None]:
    """The cache to count in, and the Redis cache itself when counting should go there."""
    cache = caches[CACHE_ALIAS]
    if not isinstance(cache, RedisCache):
        return cache, None
    if outage_for(cache).down():
        _fallback(None)
        return local_store, None
    return cache, cache


def _fallback(exc: BaseException | None) -> None:
    _warn(
        "Rate limits are counted per process: Redis is unavailable (this warning at most once a minute)%s",
        f": {exc.__class__.__name__}: {exc}" if exc is not None else "",
    )


def _failed(cache: RedisCache, exc: BaseException) -> None:
    outage_for(cache).failed()
    _fallback(exc)


def window_counts(key: str, window: int, seconds: int) -> tuple[int, int]:
    """Count one request in `window` (of `seconds`) and return (requests in the window
    before, requests in this one so far). On Redis one round trip: INCR, EXPIRE and GET in
    a pipeline."""
    current, previous = f"{key}:{window}", f"{key}:{window - 1}"
    cache, shared = _store()
    if shared is not None:
        # Django's cache API has no atomic "increment or create"; its incr() is EXISTS + INCRBY.
        try:
            client = shared._cache.get_client(current, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.incr(shared.make_and_validate_key(current))
            pipe.expire(shared.make_and_validate_key(current), 2 * seconds)
            pipe.get(shared.make_and_validate_key(previous))
            count, _, before = pipe.execute()
            return int(before or 0), int(count)
        except REDIS_ERRORS as exc:
            _failed(shared, exc)
            cache = local_store
    return int(cache.get(previous) or 0), _incr(cache, current, 2 * seconds)


def hit(key: str, seconds: int) -> int:
    """Count one request against `key` and return the count so far; the count starts over
    `seconds` after the first request it holds."""
    cache, shared = _store()
    if shared is not None:
        try:
            name = shared.make_and_validate_key(key)
            pipe = shared._cache.get_client(key, write=True).pipeline(transaction=False)
            pipe.set(name, 0, ex=seconds, nx=True)
            pipe.incr(name)
            pipe.ttl(name)
            _, count, ttl = pipe.execute()
            if ttl == -1:  # the key expired between SET and INCR: INCR made it anew, without expiry
                shared._cache.get_client(key, write=True).expire(name, seconds)
            return int(count)
        except REDIS_ERRORS as exc:
            _failed(shared, exc)
            cache = local_store
    return _incr(cache, key, seconds)


def _incr(cache: BaseCache, key: str, seconds: int) -> int:
    cache.add(key, 0, seconds)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr (or a fail-soft cache without Redis)
        cache.set(key, 1, seconds)
        return 1
