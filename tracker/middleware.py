"""One log line per request, with its id, user, workspace and duration."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("loopwise.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    """Tags each request with an id (an incoming X-Request-ID is kept when sane), echoes it
    in the response, and logs `method path status duration user workspace` in one line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        if request.path not in ("/healthz", "/readyz"):
            user = getattr(request, "user", None)
            match = getattr(request, "resolver_match", None)
            workspace = match.kwargs.get("ws", "-") if match else "-"
            logger.info(
                "request_id=%s method=%s path=%s status=%s duration_ms=%.1f user=%s workspace=%s",
                request.request_id,  # type: ignore[attr-defined]
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                user.get_username() if user is not None and user.is_authenticated else "-",
                workspace,
            )
        return response
