"""Security headers on every kind of page, and what production settings add (HSTS, secure
cookies, HTTPS redirects), checked in a subprocess that loads them for real."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.conftest import KEY, SLUG

ROOT = Path(__file__).resolve().parents[2]


def script_sources(csp: str) -> list[str]:
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    return directives.get("script-src", directives.get("default-src", "")).split()


def assert_safe_headers(response, what: str) -> None:
    csp = response["Content-Security-Policy"]
    sources = script_sources(csp)
    assert sources == ["'self'"], (what, csp)
    assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "base-uri 'self'" in csp, what
    assert response["X-Content-Type-Options"] == "nosniff", what
    assert response["Referrer-Policy"] == "same-origin", what
    assert response["X-Frame-Options"] == "DENY", what


@pytest.fixture
def pages(tenant):
    return {
        "login": ("anonymous", "/login/"),
        "public form": ("anonymous", f"/{SLUG}/feedback/new/"),
        "health": ("anonymous", "/healthz"),
        "api error (401)": ("anonymous", "/api/v1/workspaces/"),
        "api schema": ("anonymous", "/api/v1/schema/"),
        "api docs": ("anonymous", "/api/v1/docs/"),
        "not found page": ("admin", "/no-such-workspace/"),
        "workspace": ("admin", f"/{SLUG}/"),
        "backlog": ("admin", f"/{SLUG}/{KEY}/backlog/"),
        "backlog fragment": ("admin", f"/{SLUG}/{KEY}/backlog/?hx=1"),
        "item": ("admin", f"/{SLUG}/{KEY}/items/1/"),
        "planning": ("admin", f"/{SLUG}/{KEY}/planning/"),
        "board": ("admin", f"/{SLUG}/{KEY}/board/"),
        "review": ("admin", f"/{SLUG}/{KEY}/sprints/1/review/"),
        "review export": ("admin", f"/{SLUG}/{KEY}/sprints/1/review/?format=csv"),
        "inbox": ("admin", f"/{SLUG}/inbox/"),
        "customer": ("admin", f"/{SLUG}/customers/{tenant.customer.pk}/"),
        "reports": ("admin", f"/{SLUG}/reports/"),
        "api object": ("admin", f"/api/v1/workspaces/{SLUG}/projects/{KEY}/items/1/"),
        "forbidden": ("guest", f"/{SLUG}/inbox/"),
    }


def test_every_page_type_carries_the_security_headers(client, tenant, pages):
    for what, (role, path) in pages.items():
        client.logout()
        if role != "anonymous":
            client.force_login(tenant.users[role])
        headers = {"HTTP_HX_REQUEST": "true"} if "fragment" in what else {}
        response = client.get(path, **headers)
        assert response.status_code < 500, what
        assert_safe_headers(response, what)


def test_downloads_are_attachments_with_their_own_type(client, tenant):
    client.force_login(tenant.users["admin"])
    for fmt, kind in (("csv", "text/csv"), ("md", "text/markdown"), ("json", "application/json")):
        response = client.get(f"/{SLUG}/{KEY}/sprints/1/review/?format={fmt}")
        assert response["Content-Type"].startswith(kind)
        assert response["Content-Disposition"].startswith("attachment;")


PRODUCTION_PROBE = """
import json, django
from django.conf import settings
django.setup()
settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
from django.test import Client
client = Client()
plain = client.get("/login/")
health = client.get("/healthz")
secure = client.get("/login/", secure=True)
cookie = secure.cookies.get("csrftoken")
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "health_status": health.status_code,
    "secure_status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(cookie and cookie["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "csrf_cookie_secure_setting": settings.CSRF_COOKIE_SECURE,
    "debug": settings.DEBUG,
}))
"""


def test_production_settings_redirect_to_https_send_hsts_and_mark_cookies_secure():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="p" * 40 + "-production-like-secret-for-the-header-probe",
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["debug"] is False
    assert probe["plain_status"] == 301 and probe["plain_location"].startswith("https://")
    assert probe["health_status"] == 200  # load balancers probe over plain HTTP
    assert probe["secure_status"] == 200
    assert "max-age=31536000" in probe["hsts"] and "includeSubDomains" in probe["hsts"]
    assert probe["csrf_cookie_secure"] and probe["csrf_cookie_secure_setting"]
    assert probe["session_cookie_secure"] and probe["session_cookie_httponly"]
