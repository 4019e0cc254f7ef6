"""Abuse limits: login lockout through the real login page, API throttles, the public form's
rate limit and honeypot, request body limits, and health endpoints that are never limited."""

import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tests import factories as f
from tracker import models as m
from tracker.services.tokens import token_create

LOCKED = "Too many failed logins"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def login(client, username, password, ip="203.0.113.9"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


@override_settings(AXES_ENABLED=True)
def test_five_wrong_passwords_lock_the_account_with_a_clear_page(client, db):
    f.UserFactory(username="victim", password="right-password")
    for _ in range(4):
        response = login(client, "victim", "wrong")
        assert response.status_code == 200 and b'role="alert"' in response.content
    locked = login(client, "victim", "wrong")
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert "text/html" in locked["Content-Type"]
    # Even the right password from another address is refused while the account is locked.
    again = login(client, "victim", "right-password", ip="198.51.100.7")
    assert again.status_code == 429 and LOCKED in again.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(AXES_ENABLED=True)
def test_one_address_guessing_many_accounts_is_locked_out(client, db):
    f.UserFactory(username="someone", password="right-password")
    for n in range(5):
        login(client, f"guess{n}", "x", ip="203.0.113.50")
    response = login(client, "someone", "right-password", ip="203.0.113.50")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    elsewhere = login(client, "someone", "right-password", ip="198.51.100.8")
    assert elsewhere.status_code == 302


@override_settings(AXES_ENABLED=True)
def test_the_lockout_page_is_a_full_page_with_the_site_headers(client, db):
    for _ in range(6):
        response = login(client, "nobody", "x")
    assert response.status_code == 429
    assert "<form" not in response.content.decode()  # no password field to keep hammering
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_api_throttles_answer_429_with_retry_after(db, settings):
    workspace = f.WorkspaceFactory(slug="thr")
    user = f.UserFactory()
    f.MembershipFactory(workspace=workspace, user=user, role=m.WorkspaceRole.OWNER)
    secret = token_create(workspace=workspace, user=user).secret
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "user": "3/min", "anon": "3/min"},
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    codes = [client.get("/api/v1/workspaces/thr/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/workspaces/thr/")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["code"] == "throttled"
    # Writes count against the same bucket and are refused before doing anything.
    response = client.post("/api/v1/workspaces/thr/projects/", {"key": "NOPE", "name": "x"}, format="json")
    assert response.status_code == 429 and not m.Project.objects.filter(key="NOPE").exists()


def test_health_endpoints_are_never_throttled_or_logged_in(client, db, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/min"}}
    for _ in range(30):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert client.get("/healthz", HTTP_X_FORWARDED_PROTO="http").status_code == 200


def test_health_endpoints_run_at_most_one_query(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        client.get("/healthz")
    with django_assert_max_num_queries(1):
        client.get("/readyz")


def public_post(client, slug, ip, **data):
    fields = {"name": "Ann", "email": "ann@example.com", "body": "Gift wrap", "nps": "", "website": ""}
    return client.post(f"/{slug}/feedback/new/", {**fields, **data}, REMOTE_ADDR=ip)


def test_the_public_form_limits_each_address_and_not_its_neighbours(client, db):
    workspace = f.WorkspaceFactory(slug="pub")
    for _ in range(5):
        assert public_post(client, "pub", "203.0.113.1").status_code == 200
    refused = public_post(client, "pub", "203.0.113.1")
    assert refused.status_code == 429 and b"try again in an hour" in refused.content
    # A forged X-Forwarded-For does not reset the count.
    assert (
        client.post(
            "/pub/feedback/new/",
            {"body": "x", "website": ""},
            REMOTE_ADDR="203.0.113.1",
            HTTP_X_FORWARDED_FOR="198.51.100.99",
        ).status_code
        == 429
    )
    assert public_post(client, "pub", "203.0.113.2").status_code == 200
    assert m.Feedback.objects.filter(workspace=workspace).count() == 6


def test_the_public_honeypot_stores_nothing_and_looks_like_success(client, db):
    f.WorkspaceFactory(slug="pot")
    response = public_post(client, "pot", "203.0.113.3", website="http://spam.example")
    assert response.status_code == 200 and b"Thank you" in response.content
    assert not m.Feedback.objects.exists() and not m.Customer.objects.exists()


def test_the_public_form_refuses_an_overlong_text(client, db):
    f.WorkspaceFactory(slug="long")
    response = public_post(client, "long", "203.0.113.4", body="x" * 20001)
    assert response.status_code == 422 and not m.Feedback.objects.exists()


@pytest.fixture
def owner_api(db):
    workspace = f.WorkspaceFactory(slug="big")
    f.ProjectFactory(workspace=workspace, key="BIG")
    user = f.UserFactory()
    f.MembershipFactory(workspace=workspace, user=user, role=m.WorkspaceRole.OWNER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(workspace=workspace, user=user).secret}")
    return client


def test_an_api_body_over_the_limit_is_413_and_writes_nothing(owner_api, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    body = json.dumps({"items": [{"source": "s", "external_id": str(n), "title": "x" * 50} for n in range(200)]})
    response = owner_api.post("/api/v1/workspaces/big/projects/BIG/items/bulk/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not m.BacklogItem.objects.exists()


def test_a_body_over_djangos_own_limit_is_413_too(owner_api, settings):
    settings.API_MAX_BODY_BYTES = 50 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"title": "x" * 20_000})
    response = owner_api.post("/api/v1/workspaces/big/projects/BIG/items/", body, content_type="application/json")
    assert response.status_code == 413
    assert not m.BacklogItem.objects.exists()


def test_a_non_json_body_is_415_and_bad_json_is_400(owner_api):
    url = "/api/v1/workspaces/big/projects/BIG/items/"
    assert owner_api.post(url, "title=x", content_type="application/x-www-form-urlencoded").status_code == 415
    response = owner_api.post(url, '{"title": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert not m.BacklogItem.objects.exists()


def test_a_batch_over_a_thousand_entries_is_refused(owner_api):
    items = [{"source": "s", "external_id": str(n), "title": "t"} for n in range(1001)]
    response = owner_api.post("/api/v1/workspaces/big/projects/BIG/items/bulk/", {"items": items}, format="json")
    assert response.status_code == 400
    assert not m.BacklogItem.objects.exists()


def test_a_forged_x_forwarded_for_does_not_reset_the_anonymous_api_throttle(db, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "2/min"}}
    client = APIClient()
    codes = [
        client.get("/api/v1/workspaces/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 429, 429]


def test_behind_a_trusted_proxy_the_public_form_limits_the_real_client(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    f.WorkspaceFactory(slug="proxied")
    fields = {"body": "Gift wrap", "website": ""}
    for n in range(5):
        response = client.post(
            "/proxied/feedback/new/", fields, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )
        assert response.status_code == 200  # five different clients behind one proxy
    for _ in range(5):
        accepted = client.post(
            "/proxied/feedback/new/", fields, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.99"
        )
        assert accepted.status_code == 200  # each client has its own five, not the proxy's
    sixth = client.post("/proxied/feedback/new/", fields, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert sixth.status_code == 429
    # Only the hop the proxy appended counts: a client cannot pick its address by prepending one.
    spoofed = client.post(
        "/proxied/feedback/new/", fields, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.99"
    )
    assert spoofed.status_code == 429
