"""Backlog items over the API: CRUD, concurrency, permissions, bad input, idempotency."""

import json

import pytest

from tests import factories as f
from tests.api.conftest import BASE, ITEMS
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_link


@pytest.fixture
def item(project, owner):
    return item_create(project=project, actor=owner, title="Checkout is slow", source="jira", external_id="J-1")


def test_the_backlog_lists_items_with_what_a_client_needs(admin_api, item, owner):
    feedback = f.FeedbackFactory(workspace=item.project.workspace)
    feedback_link(feedback=feedback, item=item, actor=owner, quote="slow")
    body = admin_api.get(ITEMS).json()
    row = body["results"][0]
    assert row["key"] == "SHOP-1"
    assert row["url"] == "http://testserver/acme-test/SHOP/items/1/"
    assert (row["feedback_count"], row["customer_count"]) == (1, 1)
    assert row["impact"] > 0
    assert {"id", "version", "created_at", "updated_at", "source", "external_id"} <= set(row)
    assert body["next"] is None


def test_creating_an_item_answers_201_with_its_etag(admin_api, project):
    response = admin_api.post(ITEMS, {"title": "One-page checkout", "estimate": "5", "labels": ["ux"]}, format="json")
    assert response.status_code == 201
    assert response["ETag"] == '"1"'
    assert response.json()["labels"] == ["ux"]
    assert m.BacklogItem.objects.get().title == "One-page checkout"


def test_an_unknown_field_is_rejected_by_name(admin_api, project):
    response = admin_api.post(ITEMS, {"title": "X", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"colour": ["Unknown field."]}
    assert not m.BacklogItem.objects.exists()


def test_a_wrong_type_is_rejected_by_field(admin_api, project):
    response = admin_api.post(ITEMS, {"title": "X", "estimate": "lots", "priority": 9}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"estimate", "priority"}


def test_malformed_json_is_a_parse_error(admin_api, project):
    response = admin_api.generic("POST", ITEMS, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_body_over_the_limit_is_refused_with_413(admin_api, project, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = admin_api.post(ITEMS, {"title": "x" * 200}, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not m.BacklogItem.objects.exists()


def test_an_epic_of_another_project_is_a_field_error(admin_api, item, workspace):
    response = admin_api.post(ITEMS, {"title": "Child", "epic": 99}, format="json")
    assert response.status_code == 400
    assert "epic" in response.json()["fields"]


def test_reading_an_item_sends_its_etag_and_honours_if_none_match(admin_api, item):
    url = f"{ITEMS}1/"
    response = admin_api.get(url)
    assert response["ETag"] == '"1"'
    assert admin_api.get(url, HTTP_IF_NONE_MATCH='"1"').status_code == 304
    assert admin_api.get(url, HTTP_IF_NONE_MATCH='"0"').status_code == 200


def test_patch_with_a_stale_if_match_is_412_with_the_current_version(admin_api, item):
    admin_api.patch(f"{ITEMS}1/", {"title": "Second"}, format="json")
    response = admin_api.patch(f"{ITEMS}1/", {"title": "Third"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    item.refresh_from_db()
    assert item.title == "Second"


def test_patch_with_the_current_if_match_changes_the_item(admin_api, item):
    response = admin_api.patch(f"{ITEMS}1/", {"status": "ready"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["status"] == "ready"


def test_put_replaces_the_item_resetting_what_is_not_sent(admin_api, item):
    admin_api.patch(f"{ITEMS}1/", {"status": "ready", "priority": 5}, format="json")
    response = admin_api.put(f"{ITEMS}1/", {"title": "Fresh"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["priority"]) == ("backlog", 3)


def test_delete_leaves_a_tombstone_for_sync(admin_api, item):
    assert admin_api.delete(f"{ITEMS}1/", HTTP_IF_MATCH='"1"').status_code == 204
    assert admin_api.get(f"{ITEMS}1/").status_code == 404
    assert admin_api.get(ITEMS).json()["results"] == []
    rows = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert [(r["key"], r["deleted"]) for r in rows] == [("SHOP-1", True)]


def test_delete_with_a_stale_if_match_deletes_nothing(admin_api, item):
    assert admin_api.delete(f"{ITEMS}1/", HTTP_IF_MATCH='"7"').status_code == 412
    item.refresh_from_db()
    assert item.deleted_at is None


def test_moving_an_item_before_another(admin_api, project, owner):
    for title in ("A", "B", "C"):
        item_create(project=project, actor=owner, title=title)
    assert admin_api.post(f"{ITEMS}3/move/", {"before": 1}, format="json").status_code == 200
    keys = [r["key"] for r in admin_api.get(ITEMS).json()["results"]]
    assert keys == ["SHOP-3", "SHOP-1", "SHOP-2"]


def test_a_move_needs_exactly_one_target(admin_api, item):
    response = admin_api.post(f"{ITEMS}1/move/", {"before": 1, "position": "top"}, format="json")
    assert response.status_code == 400


def test_a_stakeholder_gets_403_on_writes(stakeholder_api, item):
    assert stakeholder_api.get(f"{ITEMS}1/").status_code == 200
    assert stakeholder_api.post(ITEMS, {"title": "X"}, format="json").status_code == 403
    assert stakeholder_api.patch(f"{ITEMS}1/", {"title": "X"}, format="json").status_code == 403
    assert stakeholder_api.delete(f"{ITEMS}1/").status_code == 403


def test_a_guest_outside_the_project_gets_404(guest_api, item):
    assert guest_api.get(ITEMS).status_code == 404
    assert guest_api.get(f"{ITEMS}1/").status_code == 404


def test_a_guest_in_the_project_may_read_but_not_write(guest_api, item, project):
    f.ProjectMembershipFactory(project=project, user=guest_api.token.user, role=m.ProjectRole.DEVELOPER)
    assert guest_api.get(f"{ITEMS}1/").status_code == 200
    assert guest_api.post(ITEMS, {"title": "X"}, format="json").status_code == 403


def test_another_workspaces_item_is_404_by_number_key_and_external_id(admin_api, foreign, project):
    base = "/api/v1/workspaces/globex-test/projects/OPS/items/"
    assert admin_api.get(f"{base}1/").status_code == 404
    assert admin_api.get(f"{BASE}/projects/OPS/items/1/").status_code == 404
    assert admin_api.get(f"{ITEMS}by-external/jira/OPS-1/").status_code == 404
    assert admin_api.put(f"{base}by-external/jira/OPS-1/", {"title": "x"}, format="json").status_code == 404


def test_upsert_creates_then_updates_then_changes_nothing(admin_api, project):
    url = f"{ITEMS}by-external/jira/J-7/"
    created = admin_api.put(url, {"title": "Guest checkout"}, format="json")
    assert created.status_code == 201
    updated = admin_api.put(url, {"title": "Guest checkout", "status": "ready"}, format="json")
    assert (updated.status_code, updated.json()["version"]) == (200, 2)
    again = admin_api.put(url, {"title": "Guest checkout", "status": "ready"}, format="json")
    assert (again.status_code, again.json()["version"]) == (200, 2)
    assert m.BacklogItem.objects.filter(source="jira", external_id="J-7").count() == 1


def test_upsert_keeps_fields_it_was_not_sent(admin_api, item):
    admin_api.patch(f"{ITEMS}1/", {"status": "in_review"}, format="json")
    response = admin_api.put(f"{ITEMS}by-external/jira/J-1/", {"title": "Renamed"}, format="json")
    assert response.json()["status"] == "in_review"


def test_upsert_of_a_new_item_needs_a_title(admin_api, project):
    response = admin_api.put(f"{ITEMS}by-external/jira/J-9/", {"status": "ready"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()["fields"]


def test_upsert_with_a_stale_if_match_is_412(admin_api, item):
    response = admin_api.put(f"{ITEMS}by-external/jira/J-1/", {"title": "X"}, format="json", HTTP_IF_MATCH='"3"')
    assert response.status_code == 412


def test_reading_by_external_id(admin_api, item):
    response = admin_api.get(f"{ITEMS}by-external/jira/J-1/")
    assert (response.status_code, response.json()["key"]) == (200, "SHOP-1")


def test_a_retried_post_with_an_idempotency_key_creates_once(admin_api, project):
    first = admin_api.post(ITEMS, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = admin_api.post(ITEMS, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert m.BacklogItem.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_422(admin_api, project):
    admin_api.post(ITEMS, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = admin_api.post(ITEMS, {"title": "Twice"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert m.BacklogItem.objects.count() == 1


def test_idempotency_keys_belong_to_one_token(admin_api, po_api, project):
    admin_api.post(ITEMS, {"title": "Mine"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    response = po_api.post(ITEMS, {"title": "Mine"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 201
    assert m.BacklogItem.objects.count() == 2


def test_a_failed_post_does_not_burn_its_idempotency_key(admin_api, project):
    assert admin_api.post(ITEMS, {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k-4").status_code == 400
    assert admin_api.post(ITEMS, {"title": "Fixed"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4").status_code == 201


def test_filters_by_status_label_and_text(admin_api, project, owner):
    item_create(project=project, actor=owner, title="Pay by card", status="ready", labels=["pay"])
    item_create(project=project, actor=owner, title="Dark mode")
    assert [r["title"] for r in admin_api.get(ITEMS, {"status": "ready"}).json()["results"]] == ["Pay by card"]
    assert [r["title"] for r in admin_api.get(ITEMS, {"label": "pay"}).json()["results"]] == ["Pay by card"]
    assert [r["title"] for r in admin_api.get(ITEMS, {"q": "dark"}).json()["results"]] == ["Dark mode"]


def test_filters_by_customer_segment(admin_api, project, owner):
    asked = item_create(project=project, actor=owner, title="Asked by management")
    item_create(project=project, actor=owner, title="Nobody asked")
    customer = f.CustomerFactory(workspace=project.workspace, segment=m.Segment.MANAGEMENT)
    feedback_link(feedback=f.FeedbackFactory(workspace=project.workspace, customer=customer), item=asked, actor=owner)
    rows = admin_api.get(ITEMS, {"segment": "management"}).json()["results"]
    assert [r["title"] for r in rows] == ["Asked by management"]


def test_an_invalid_filter_value_is_a_400(admin_api, project):
    response = admin_api.get(ITEMS, {"status": "sleeping"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_ordering_by_newest_number(admin_api, project, owner):
    for title in ("A", "B"):
        item_create(project=project, actor=owner, title=title)
    rows = admin_api.get(ITEMS, {"ordering": "-number"}).json()["results"]
    assert [r["number"] for r in rows] == [2, 1]


def test_cursor_pages_cover_every_item_once(admin_api, project, owner):
    for n in range(7):
        item_create(project=project, actor=owner, title=f"Item {n}")
    seen, url = [], f"{ITEMS}?page_size=3"
    while url:
        body = admin_api.get(url).json()
        seen += [r["number"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == list(range(1, 8))
    assert len(seen) == 7


def test_a_forged_cursor_is_a_400(admin_api, project):
    assert admin_api.get(ITEMS, {"cursor": "garbage"}).status_code == 400


def test_every_error_has_the_same_shape(admin_api, project):
    for response in (
        admin_api.get(f"{ITEMS}999/"),
        admin_api.post(ITEMS, {}, format="json"),
        admin_api.patch(f"{ITEMS}999/", json.dumps({}), content_type="application/json"),
    ):
        assert set(response.json()) >= {"code", "message", "fields"}


def test_a_stakeholder_may_comment_and_everyone_reads_comments(stakeholder_api, item):
    response = stakeholder_api.post(f"{ITEMS}1/comments/", {"body": "Customers keep asking"}, format="json")
    assert response.status_code == 201
    rows = stakeholder_api.get(f"{ITEMS}1/comments/").json()["results"]
    assert [r["body"] for r in rows] == ["Customers keep asking"]


def test_an_empty_comment_is_a_field_error(admin_api, item):
    response = admin_api.post(f"{ITEMS}1/comments/", {"body": " "}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["fields"]


def test_a_read_only_token_cannot_comment(read_api, item):
    assert read_api.post(f"{ITEMS}1/comments/", {"body": "Hi"}, format="json").status_code == 403
