"""A Redis cache that fails soft: when Redis does not answer, the cache is bypassed.

The one Redis of a deployment is Celery's broker, the Django cache and the API rate
limiter's store (see config/settings.py). Nothing Loopwise keeps in the cache is the only
copy of anything, so a dead Redis must cost a cache miss, never a failed request:

* reads (`get`, `get_many`, `has_key`) answer a miss;
* writes (`set`, `add`, `delete`, `touch`, `set_many`, `delete_many`, `clear`) do nothing;
* `incr`/`decr` raise ValueError, Django's "no such key" (callers already handle it).

After a failure the backend does not try Redis again for `RETRY_AFTER` seconds (an option,
default 2): requests in between skip it at no cost, and with short socket timeouts (set in
settings) even the first request of an outage loses milliseconds. A warning is logged at
most once a minute per process. `outage_for()` gives the rate limiter (tracker.ratelimit)
the same view of "Redis is down" for the same server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a Redis that is down, restarting, out of memory or read-only raises.
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
DEFAULT_RETRY_AFTER = 2.0
WARN_EVERY = 60.0


_warnings: list[WarnEvery] = []


class WarnEvery:
    """A logger.warning that speaks at most once per `interval` seconds in this process."""

    def __init__(self, log: logging.Logger, interval: float = WARN_EVERY) -> None:
        self.log = log
        self.interval = interval
        self._last: float | None = None
        self._lock = threading.Lock()
        _warnings.append(self)

    def __call__(self, message: str, *args: Any) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.interval:
                return False
            self._last = now
        self.log.warning(message, *args)
        return True

    def reset(self) -> None:
        with self._lock:
            self._last = None


class Outage:
    """Whether one Redis server is taken for down, shared by every thread of the process.

    `failed()` marks it down for `retry_after` seconds; the first call after that tries
    Redis again (a success needs no bookkeeping, a failure marks it down once more).
    """

    def __init__(self, retry_after: float = DEFAULT_RETRY_AFTER) -> None:
        self.retry_after = retry_after
        self._until = 0.0

    def down(self) -> bool:
        return time.monotonic() < self._until

    def failed(self) -> None:
        self._until = time.monotonic() + self.retry_after

    def reset(self) -> None:
        self._until = 0.0


_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def _outage(servers: list[str] | str, retry_after: float = DEFAULT_RETRY_AFTER) -> Outage:
    name = servers if isinstance(servers, str) else "|".join(servers)
    with _outages_lock:
        if name not in _outages:
            _outages[name] = Outage(retry_after)
        return _outages[name]


def outage_for(cache: RedisCache) -> Outage:
    """The shared outage state of the Redis behind `cache` (any RedisCache)."""
    own = getattr(cache, "outage", None)
    return own if isinstance(own, Outage) else _outage(cache._servers)


def reset_outages() -> None:
    """Forget every outage and every warning's last time (tests start each Redis afresh)."""
    with _outages_lock:
        for outage in _outages.values():
            outage.reset()
    for warning in _warnings:
        warning.reset()


_warn = WarnEvery(logger)


class FailSoftRedisCache(RedisCache):
    """Django's RedisCache, bypassed while Redis does not answer (see the module)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        retry_after = float(options.pop("RETRY_AFTER", DEFAULT_RETRY_AFTER))
        super().__init__(server, {**params, "OPTIONS": options})
        self.outage = _outage(self._servers)
        self.outage.retry_after = retry_after  # one Outage per server; the settings' value wins

    def _soft(self, call: Callable[[], T], default: T) -> T:
        if self.outage.down():
            return default
        try:
            return call()
        except REDIS_ERRORS as exc:
            self.outage.failed()
            _warn(
                "Redis cache unavailable, serving without cache (retrying every %ss; this warning at most once a minute): %s: %s",
                self.outage.retry_after,
                exc.__class__.__name__,
                exc,
            )
            return default

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(lambda: super(FailSoftRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft(lambda: super(FailSoftRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._soft(lambda: super(FailSoftRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(lambda: super(FailSoftRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft(lambda: super(FailSoftRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._soft(lambda: super(FailSoftRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft(lambda: super(FailSoftRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        missing = object()
        value = self._soft(lambda: super(FailSoftRedisCache, self).incr(key, delta, version), missing)
        if value is missing:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")
        return value  # type: ignore[return-value]

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._soft(lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        keys = list(keys)
        self._soft(lambda: super(FailSoftRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> bool:
        return self._soft(lambda: super(FailSoftRedisCache, self).clear(), False)
