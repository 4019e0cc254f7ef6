"""Health endpoints for load balancers and orchestrators: cheap, unauthenticated, unthrottled."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("loopwise.ops")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


# Dependencies a web host serves without (see readyz).
OPTIONAL = frozenset({"redis"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready for traffic: the database answers. Redis, when one is configured, is checked
    and reported but does not make the host unready: without it requests still answer and
    keep their writes (cache bypassed, limits per process, work waiting in the outbox), so
    a Redis outage must not take every web host out of rotation.

    503 names each required dependency that is down; `degraded` names the optional ones.
    """
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    results = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure means "not ready"; the reason is reported, not hidden
            logger.warning("readiness check failed: %s: %s", name, exc)
            results[name] = f"down: {exc.__class__.__name__}"
    failing = sorted(name for name, result in results.items() if result != "ok")
    down = [name for name in failing if name not in OPTIONAL]
    degraded = [name for name in failing if name in OPTIONAL]
    status = "unavailable" if down else "degraded" if degraded else "ok"
    body = {"status": status, "down": down, "degraded": degraded, "checks": results}
    return JsonResponse(body, status=503 if down else 200)
