"""Rate limits per API token, per session user and per anonymous IP, kept in the cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:
    from rest_framework.request import Request

APIView = Any  # DRF's views import this module through the settings: no import back


class ApiRateThrottle(SimpleRateThrottle):
    """One bucket per token (`token` rate), per user (`user`) or per client IP (`anon`).

    Rates are read per request from settings, so a deployment (or a test) can change them
    without reloading DRF. A refused request gets 429 with `Retry-After`.
    """

    def __init__(self) -> None:  # the rate depends on the request; chosen in allow_request
        pass

    def allow_request(self, request: Request, view: APIView) -> bool:
        from tracker.api.authentication import token_of

        token = token_of(request)
        if token is not None:
            self.scope, ident = "token", str(token.pk)
        elif request.user and request.user.is_authenticated:
            self.scope, ident = "user", str(request.user.pk)
        else:
            self.scope, ident = "anon", self.get_ident(request)
        self.ident = ident
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        self.rate = rates.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return f"throttle:{self.scope}:{self.ident}"
