"""Rate limits per API token, per session user and per anonymous IP, kept in the cache.

The counters live in Redis (shared by every process) and, while Redis does not answer, in
each process's memory: the limit still holds per process and no request fails because the
limiter's store is down (see tracker.ratelimit)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from tracker.ratelimit import window_counts

if TYPE_CHECKING:
    from rest_framework.request import Request

APIView = Any  # DRF's views import this module through the settings: no import back

__all__ = ["ApiRateThrottle", "window_counts"]


class ApiRateThrottle(SimpleRateThrottle):
    """One bucket per token (`token` rate), per user (`user`) or per client IP (`anon`).

    A sliding-window counter: the requests of the current fixed window plus those of the
    previous window weighted by how much of it still overlaps the last `duration` seconds.
    Constant work and memory per request, whatever the rate (DRF's default keeps and rewrites
    a list of every request's timestamp: at 1,200/min, a 10 KB pickle per request). Refused
    requests count too, so a client that ignores Retry-After stays refused.

    Rates are read per request from settings, so a deployment (or a test) can change them
    without reloading DRF. A refused request gets 429 with `Retry-After`.
    """

    def __init__(self) -> None:  # the rate depends on the request; chosen in allow_request
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        from tracker.api.authentication import token_of

        token = token_of(request)
        if token is not None:
            self.scope, ident = "token", str(token.pk)
        elif request.user and request.user.is_authenticated:
            self.scope, ident = "user", str(request.user.pk)
        else:
            self.scope, ident = "anon", self.get_ident(request)
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        self.rate = rates.get(self.scope)
        if self.rate is None:
            return True
        limit, duration = self.parse_rate(self.rate)
        now = time.time()
        window, into = divmod(now, duration)
        before, current = window_counts(f"throttle:{self.scope}:{ident}", int(window), duration)
        if before * (1 - into / duration) + current <= limit:
            return True
        self.retry_after = duration - into
        return False

    def wait(self) -> float | None:
        return None if self.retry_after is None else max(1, math.ceil(self.retry_after))
