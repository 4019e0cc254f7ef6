"""Workspaces, members, projects, sprints, objectives and webhooks over the API."""

import pytest

from tests import factories as f
from tests.api.conftest import BASE
from tracker import models as m
from tracker.services.backlog import item_create

SPRINTS = f"{BASE}/projects/SHOP/sprints/"


def test_the_workspace_and_its_members_with_project_roles(admin_api, po, project):
    assert admin_api.get(f"{BASE}/").json()["slug"] == "acme-test"
    members = {r["username"]: r for r in admin_api.get(f"{BASE}/members/").json()["results"]}
    assert members["po"]["projects"] == {"SHOP": "product_owner"}
    assert members["owner"]["role"] == "owner"


def test_another_workspace_is_404(admin_api, foreign):
    assert admin_api.get("/api/v1/workspaces/globex-test/").status_code == 404
    assert admin_api.get("/api/v1/workspaces/nope/").status_code == 404


def test_an_admin_creates_a_project_and_a_member_may_not(admin_api, developer_api):
    response = admin_api.post(f"{BASE}/projects/", {"key": "DESK", "name": "Desk"}, format="json")
    assert response.status_code == 201
    assert developer_api.post(f"{BASE}/projects/", {"key": "EXEC", "name": "Exec"}, format="json").status_code == 403


def test_a_project_mix_that_does_not_add_up_is_a_field_error(admin_api, project):
    response = admin_api.patch(f"{BASE}/projects/SHOP/", {"mix_partner": 50}, format="json")
    assert response.status_code == 400
    assert "mix_end_customer" in response.json()["fields"]


def test_a_guest_lists_only_their_projects(guest_api, project, workspace):
    f.ProjectFactory(workspace=workspace, key="DESK")
    f.ProjectMembershipFactory(project=project, user=guest_api.token.user, role=m.ProjectRole.DEVELOPER)
    assert [p["key"] for p in guest_api.get(f"{BASE}/projects/").json()["results"]] == ["SHOP"]


def test_a_sprint_is_planned_started_closed_and_reviewed(po_api, project, po):
    response = po_api.post(SPRINTS, {"name": "Sprint 1", "capacity": 20}, format="json")
    assert response.status_code == 201
    item = item_create(project=project, actor=po, title="Ship it", status="done")
    po_api.patch(f"{BASE}/projects/SHOP/items/{item.number}/", {"sprint": 1}, format="json")
    started = po_api.post(f"{SPRINTS}1/start/", format="json")
    assert (started.status_code, started.json()["state"]) == (200, "active")
    assert po_api.get(f"{SPRINTS}1/review/").status_code == 200
    closed = po_api.post(f"{SPRINTS}1/close/", {}, format="json")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert po_api.get(f"{SPRINTS}1/review/").json() == m.Sprint.objects.get().review_snapshot


def test_starting_a_second_active_sprint_is_a_400(po_api, project):
    po_api.post(SPRINTS, {}, format="json")
    po_api.post(SPRINTS, {}, format="json")
    po_api.post(f"{SPRINTS}1/start/", format="json")
    response = po_api.post(f"{SPRINTS}2/start/", format="json")
    assert response.status_code == 400
    assert "state" in response.json()["fields"]


def test_a_developer_cannot_manage_sprints(developer_api, project):
    assert developer_api.post(SPRINTS, {}, format="json").status_code == 403


def test_a_sprint_ending_before_it_starts_is_a_field_error(po_api, project):
    response = po_api.post(SPRINTS, {"start_date": "2026-02-10", "end_date": "2026-02-01"}, format="json")
    assert response.status_code == 400
    assert "end_date" in response.json()["fields"]


def test_sprints_filter_by_state(po_api, project):
    po_api.post(SPRINTS, {}, format="json")
    po_api.post(SPRINTS, {}, format="json")
    po_api.post(f"{SPRINTS}1/start/", format="json")
    assert [s["number"] for s in po_api.get(SPRINTS, {"state": "planned"}).json()["results"]] == [2]


def test_objectives_are_created_by_admins_and_read_by_members(admin_api, developer_api):
    response = admin_api.post(
        f"{BASE}/objectives/", {"title": "Faster", "kpi": "Conversion", "target": "3"}, format="json"
    )
    assert response.status_code == 201
    assert len(developer_api.get(f"{BASE}/objectives/").json()["results"]) == 1
    assert (
        developer_api.post(f"{BASE}/objectives/", {"title": "X", "kpi": "Y", "target": "1"}, format="json").status_code
        == 403
    )
    url = f"{BASE}/objectives/{response.json()['id']}/"
    assert admin_api.patch(url, {"current": "2.5"}, format="json").json()["version"] == 2


def test_a_webhook_to_a_private_address_is_refused(admin_api):
    response = admin_api.post(f"{BASE}/webhooks/", {"url": "http://127.0.0.1:9/hook"}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()["fields"]
    assert not m.Webhook.objects.exists()


def test_an_admin_may_allow_a_private_webhook_and_sees_its_secret_once(admin_api):
    body = {"url": "http://127.0.0.1:9/hook", "allow_private": True, "events": ["item.changed"]}
    response = admin_api.post(f"{BASE}/webhooks/", body, format="json")
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert len(secret) == 64 and m.Webhook.objects.get().secret == secret
    listed = admin_api.get(f"{BASE}/webhooks/").json()["results"]
    assert "secret" not in listed[0]


def test_turning_off_allow_private_rechecks_the_url(admin_api):
    created = admin_api.post(f"{BASE}/webhooks/", {"url": "http://127.0.0.1:9/", "allow_private": True}, format="json")
    url = f"{BASE}/webhooks/{created.json()['id']}/"
    assert admin_api.patch(url, {"allow_private": False}, format="json").status_code == 400
    assert admin_api.delete(url).status_code == 204


def test_an_unknown_webhook_event_is_a_field_error(admin_api):
    response = admin_api.post(
        f"{BASE}/webhooks/", {"url": "http://127.0.0.1/", "allow_private": True, "events": ["nope"]}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["webhooks/", "tokens/", "objectives/", "members/"])
def test_a_non_member_gets_404_everywhere(foreign, path, make_client):
    client = make_client(foreign["user"], foreign["project"].workspace)
    assert client.get(f"{BASE}/{path}").status_code == 404


def test_a_member_cannot_manage_webhooks(developer_api):
    assert developer_api.get(f"{BASE}/webhooks/").status_code == 403
