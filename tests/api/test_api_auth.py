"""Tokens, sessions, workspace scoping and throttling."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories as f
from tests.api.conftest import BASE, ITEMS, client_for
from tracker import models as m
from tracker.services.tokens import token_hash, token_revoke


def test_a_bearer_token_authenticates_and_records_its_last_use(admin_api, project):
    response = admin_api.get(ITEMS)
    assert response.status_code == 200
    admin_api.token.refresh_from_db()
    assert admin_api.token.last_used_at is not None


def test_the_last_use_is_written_at_most_once_a_minute(admin_api, project, django_assert_num_queries):
    admin_api.get(ITEMS)
    admin_api.token.refresh_from_db()
    first = admin_api.token.last_used_at
    admin_api.get(ITEMS)
    admin_api.token.refresh_from_db()
    assert admin_api.token.last_used_at == first


def test_only_the_hash_of_a_token_is_stored(owner, workspace):
    client = client_for(owner, workspace)
    secret = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    token = m.ApiToken.objects.get(pk=client.token.pk)
    assert token.key_hash == token_hash(secret)
    assert secret not in (token.prefix + token.key_hash + token.name) or token.prefix == secret[:11]


def test_a_revoked_token_is_refused_at_once(admin_api, project):
    token_revoke(token=admin_api.token)
    response = admin_api.get(ITEMS)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer lw_nope")
    assert client.get("/api/v1/workspaces/").status_code == 401


def test_a_request_without_credentials_gets_401_in_the_error_shape(db):
    response = APIClient().get("/api/v1/workspaces/")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "fields"}


def test_a_token_works_only_in_its_own_workspace(admin_api, foreign):
    # Even a member of both workspaces cannot use one workspace's token in the other.
    f.MembershipFactory(workspace=foreign["project"].workspace, user=admin_api.token.user, role="owner")
    response = admin_api.get("/api/v1/workspaces/globex-test/projects/OPS/items/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_workspace_list_shows_only_the_tokens_workspace(admin_api, foreign):
    f.MembershipFactory(workspace=foreign["project"].workspace, user=admin_api.token.user)
    slugs = [w["slug"] for w in admin_api.get("/api/v1/workspaces/").json()["results"]]
    assert slugs == ["acme-test"]


def test_a_read_only_token_can_read_but_not_write(read_api, project):
    assert read_api.get(ITEMS).status_code == 200
    response = read_api.post(ITEMS, {"title": "Nope"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not m.BacklogItem.objects.exists()


def test_session_auth_requires_the_csrf_token(owner, project):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(ITEMS).status_code == 200
    response = client.post(ITEMS, {"title": "No CSRF"}, format="json")
    assert response.status_code == 403
    assert not m.BacklogItem.objects.exists()


def test_create_token_prints_a_working_token_as_its_last_line(owner, workspace, project):
    out = StringIO()
    call_command("create_token", "owner", "acme-test", "--name", "cli", stdout=out, stderr=StringIO())
    secret = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(ITEMS).status_code == 200
    assert m.ApiToken.objects.get(name="cli").scope == m.TokenScope.WRITE


def test_create_token_read_only_makes_a_read_token(owner, workspace):
    out = StringIO()
    call_command("create_token", "owner", "acme-test", "--read-only", stdout=out, stderr=StringIO())
    assert m.ApiToken.objects.get().scope == m.TokenScope.READ


def test_create_token_refuses_a_non_member(workspace):
    f.UserFactory(username="stranger")
    with pytest.raises(Exception, match="not a member"):
        call_command("create_token", "stranger", "acme-test", stdout=StringIO(), stderr=StringIO())


def test_too_many_requests_get_429_with_retry_after(admin_api, project, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "2/min", "anon": "2/min"}}
    assert admin_api.get(ITEMS).status_code == 200
    assert admin_api.get(ITEMS).status_code == 200
    response = admin_api.get(ITEMS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_anonymous_clients_are_throttled_per_ip(db, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/min"}}
    client = APIClient()
    assert client.get("/api/v1/workspaces/").status_code == 401
    assert client.get("/api/v1/workspaces/").status_code == 429


def test_a_user_creates_a_token_through_the_api_and_sees_it_once(admin_api, workspace):
    response = admin_api.post(f"{BASE}/tokens/", {"name": "sync", "scope": "read"}, format="json")
    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("lw_")
    listed = admin_api.get(f"{BASE}/tokens/").json()["results"]
    assert {t["name"] for t in listed} == {"test", "sync"}
    assert all("token" not in t for t in listed)


def test_revoking_a_token_through_the_api_refuses_it(admin_api, owner, workspace, project):
    other = client_for(owner, workspace)
    assert admin_api.delete(f"{BASE}/tokens/{other.token.pk}/").status_code == 204
    assert other.get(ITEMS).status_code == 401
    assert m.ApiToken.objects.get(pk=other.token.pk).revoked_at <= timezone.now()


def test_a_member_cannot_see_someone_elses_token(developer_api, owner, workspace):
    others = client_for(owner, workspace)
    assert developer_api.get(f"{BASE}/tokens/{others.token.pk}/").status_code == 404
    assert developer_api.delete(f"{BASE}/tokens/{others.token.pk}/").status_code == 404


def test_a_read_only_token_cannot_create_tokens(read_api):
    assert read_api.post(f"{BASE}/tokens/", {"name": "x"}, format="json").status_code == 403
