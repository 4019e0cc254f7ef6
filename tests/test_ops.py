"""Health endpoints, request logging, security headers and login lockout."""

import logging

import pytest
from django.contrib.auth import authenticate
from django.db import OperationalError
from django.test import RequestFactory, override_settings

from tests import factories as f


def test_healthz_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_the_database_ready(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"] == {"database": "ok"}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_stays_ready_but_names_redis_as_degraded_when_it_is_down(client, db):
    # Without Redis the host still serves and keeps writes: it must stay in rotation.
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["down"], body["degraded"]) == ("degraded", [], ["redis"])


def test_readyz_answers_503_naming_the_database_when_it_is_down(client, db, monkeypatch):
    from tracker import ops

    def broken() -> str:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(ops, "_check_database", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one(client, db):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_each_request_is_logged_as_one_line_with_id_user_and_duration(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="loopwise.request"):
        client.get("/admin/login/", HTTP_X_REQUEST_ID="req-1")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "loopwise.request"]
    assert "request_id=req-1" in line and "status=200" in line and "duration_ms=" in line and "user=-" in line


def test_pages_forbid_inline_scripts_and_framing(client, db):
    response = client.get("/healthz")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@override_settings(AXES_ENABLED=True)
@pytest.mark.parametrize("vary", ["password", "ip"])
def test_repeated_login_failures_lock_the_account_even_with_the_right_password(db, vary):
    f.UserFactory(username="victim", password="right-password")
    factory = RequestFactory()
    for attempt in range(5):
        ip = f"203.0.113.{attempt}" if vary == "ip" else "203.0.113.9"
        request = factory.post("/login/", REMOTE_ADDR=ip)
        assert authenticate(request, username="victim", password="wrong") is None
    request = factory.post("/login/", REMOTE_ADDR="198.51.100.7")
    assert authenticate(request, username="victim", password="right-password") is None


@override_settings(AXES_ENABLED=True)
def test_repeated_failures_from_one_ip_lock_that_ip_for_every_account(db):
    f.UserFactory(username="other", password="right-password")
    factory = RequestFactory()
    for n in range(5):
        assert (
            authenticate(factory.post("/login/", REMOTE_ADDR="203.0.113.50"), username=f"guess{n}", password="x")
            is None
        )
    locked = factory.post("/login/", REMOTE_ADDR="203.0.113.50")
    assert authenticate(locked, username="other", password="right-password") is None
    elsewhere = factory.post("/login/", REMOTE_ADDR="198.51.100.8")
    assert authenticate(elsewhere, username="other", password="right-password") is not None


def test_an_unknown_api_path_answers_404_in_the_api_error_shape(client, db):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
