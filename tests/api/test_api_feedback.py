"""Feedback, links and customers over the API."""

import pytest

from tests import factories as f
from tests.api.conftest import BASE
from tracker import models as m
from tracker.services.backlog import item_create

FEEDBACK = f"{BASE}/feedback/"


@pytest.fixture
def item(project, owner):
    return item_create(project=project, actor=owner, title="Faster checkout")


@pytest.fixture
def feedback(workspace):
    return f.FeedbackFactory(workspace=workspace, title="Slow", channel=m.Channel.SUPPORT)


def test_recording_feedback_finds_the_customer_by_email(admin_api, workspace):
    customer = f.CustomerFactory(workspace=workspace, email="ada@example.com")
    response = admin_api.post(FEEDBACK, {"body": "Five clicks", "customer_email": "ada@example.com"}, format="json")
    assert response.status_code == 201
    assert response.json()["customer"] == str(customer.pk)
    assert response["ETag"] == '"1"'


def test_feedback_needs_a_body(admin_api, workspace):
    response = admin_api.post(FEEDBACK, {"title": "Empty"}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["fields"]


def test_a_score_out_of_range_is_a_field_error(admin_api, workspace):
    response = admin_api.post(FEEDBACK, {"body": "x", "csat": 9}, format="json")
    assert response.status_code == 400
    assert "csat" in response.json()["fields"]


def test_linking_feedback_to_an_item_with_a_quote_shows_in_both(admin_api, feedback, item):
    response = admin_api.post(
        f"{FEEDBACK}{feedback.pk}/links/", {"item": "SHOP-1", "quote": "five clicks"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["item"] == "SHOP-1"
    links = admin_api.get(f"{FEEDBACK}{feedback.pk}/").json()["links"]
    assert [(link["item"], link["quote"]) for link in links] == [("SHOP-1", "five clicks")]
    assert admin_api.get(f"{BASE}/projects/SHOP/items/1/").json()["feedback_count"] == 1


def test_linking_to_an_unknown_item_is_a_field_error(admin_api, feedback, project):
    response = admin_api.post(f"{FEEDBACK}{feedback.pk}/links/", {"item": "SHOP-99"}, format="json")
    assert response.status_code == 400
    assert "item" in response.json()["fields"]


def test_unlinking_leaves_a_tombstone_in_the_link_feed(admin_api, feedback, item):
    admin_api.post(f"{FEEDBACK}{feedback.pk}/links/", {"item": "SHOP-1"}, format="json")
    assert admin_api.delete(f"{FEEDBACK}{feedback.pk}/links/SHOP-1/").status_code == 204
    assert admin_api.get(f"{BASE}/links/").json()["results"] == []
    rows = admin_api.get(f"{BASE}/links/", {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert [(r["item"], r["deleted"]) for r in rows] == [("SHOP-1", True)]


def test_unlinking_what_is_not_linked_is_404(admin_api, feedback, item):
    assert admin_api.delete(f"{FEEDBACK}{feedback.pk}/links/SHOP-1/").status_code == 404


def test_the_link_feed_pages_live_links_and_tombstones_in_order(admin_api, workspace, item, owner):
    from tracker.services.feedback import feedback_link, feedback_unlink

    entries = [f.FeedbackFactory(workspace=workspace) for _ in range(5)]
    for fb in entries:
        feedback_link(feedback=fb, item=item, actor=owner)
    feedback_unlink(feedback=entries[0], item=item, actor=owner)
    feedback_unlink(feedback=entries[1], item=item, actor=owner)
    seen, url = [], f"{BASE}/links/?updated_since=2000-01-01T00:00:00Z&page_size=2"
    while url:
        body = admin_api.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert len(seen) == 5
    assert sum(r["deleted"] for r in seen) == 2
    assert [r["updated_at"] for r in seen] == sorted(r["updated_at"] for r in seen)


def test_triage_through_patch(admin_api, feedback):
    response = admin_api.patch(f"{FEEDBACK}{feedback.pk}/", {"triage": "dismissed"}, format="json")
    assert (response.status_code, response.json()["triage"]) == (200, "dismissed")


def test_marking_a_duplicate_needs_the_original(admin_api, feedback, workspace):
    original = f.FeedbackFactory(workspace=workspace)
    assert admin_api.patch(f"{FEEDBACK}{feedback.pk}/", {"triage": "duplicate"}, format="json").status_code == 400
    response = admin_api.patch(
        f"{FEEDBACK}{feedback.pk}/", {"triage": "duplicate", "duplicate_of": str(original.pk)}, format="json"
    )
    assert response.json()["duplicate_of"] == str(original.pk)


def test_feedback_upsert_by_external_id(admin_api, workspace):
    url = f"{FEEDBACK}by-external/desk/t-1/"
    assert admin_api.put(url, {"body": "Slow"}, format="json").status_code == 201
    again = admin_api.put(url, {"body": "Slow"}, format="json")
    assert (again.status_code, again.json()["version"]) == (200, 1)
    assert admin_api.get(url).json()["body"] == "Slow"


def test_filters_on_triage_channel_and_segment(admin_api, workspace):
    boss = f.CustomerFactory(workspace=workspace, segment=m.Segment.MANAGEMENT)
    f.FeedbackFactory(workspace=workspace, customer=boss, channel=m.Channel.INTERVIEW, body="From the boss")
    f.FeedbackFactory(workspace=workspace, channel=m.Channel.SURVEY, body="From a survey")
    assert [r["body"] for r in admin_api.get(FEEDBACK, {"segment": "management"}).json()["results"]] == [
        "From the boss"
    ]
    assert [r["body"] for r in admin_api.get(FEEDBACK, {"channel": "survey"}).json()["results"]] == ["From a survey"]
    assert len(admin_api.get(FEEDBACK, {"triage": "new", "loop_state": "open"}).json()["results"]) == 2
    assert [r["body"] for r in admin_api.get(FEEDBACK, {"q": "boss"}).json()["results"]] == ["From the boss"]


def test_a_developer_may_submit_but_not_triage_feedback(developer_api, feedback):
    assert developer_api.post(FEEDBACK, {"body": "Heard at lunch"}, format="json").status_code == 201
    assert developer_api.patch(f"{FEEDBACK}{feedback.pk}/", {"triage": "accepted"}, format="json").status_code == 403


def test_a_guest_sees_no_feedback_or_customers(guest_api, feedback):
    assert guest_api.get(FEEDBACK).status_code == 403
    assert guest_api.get(f"{BASE}/customers/").status_code == 403


def test_another_workspaces_feedback_and_customer_are_404(admin_api, foreign):
    assert admin_api.get(f"{FEEDBACK}{foreign['feedback'].pk}/").status_code == 404
    assert admin_api.get(f"{FEEDBACK}by-external/desk/t1/").status_code == 404
    assert admin_api.get(f"{BASE}/customers/{foreign['customer'].pk}/").status_code == 404
    assert admin_api.get(f"{BASE}/customers/by-external/crm/c1/").status_code == 404


def test_customer_upsert_creates_then_updates(admin_api, workspace):
    url = f"{BASE}/customers/by-external/crm/42/"
    assert admin_api.put(url, {"name": "Ada", "tier": "premium"}, format="json").status_code == 201
    response = admin_api.put(url, {"tier": "enterprise"}, format="json")
    assert (response.status_code, response.json()["tier"], response.json()["version"]) == (200, "enterprise", 2)


def test_creating_a_customer_by_upsert_needs_a_name(admin_api, workspace):
    assert admin_api.put(f"{BASE}/customers/by-external/crm/43/", {"tier": "free"}, format="json").status_code == 400


def test_customers_filter_by_segment_and_patch_with_if_match(admin_api, workspace):
    customer = f.CustomerFactory(workspace=workspace, segment=m.Segment.PARTNER)
    f.CustomerFactory(workspace=workspace)
    rows = admin_api.get(f"{BASE}/customers/", {"segment": "partner"}).json()["results"]
    assert [r["id"] for r in rows] == [str(customer.pk)]
    url = f"{BASE}/customers/{customer.pk}/"
    assert admin_api.patch(url, {"tier": "free"}, format="json", HTTP_IF_MATCH='"9"').status_code == 412
    assert admin_api.patch(url, {"tier": "free"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200


def test_an_edit_with_a_failing_triage_writes_nothing(admin_api, feedback):
    response = admin_api.patch(
        f"{FEEDBACK}{feedback.pk}/",
        {"title": "Renamed", "triage": "duplicate", "duplicate_of": str(feedback.pk)},
        format="json",
    )
    assert response.status_code == 400
    feedback.refresh_from_db()
    assert (feedback.title, feedback.version) == ("Slow", 1)


def test_the_link_feed_filters_by_feedback_including_tombstones(admin_api, workspace, item, owner):
    from tracker.services.feedback import feedback_link, feedback_unlink

    mine, other = f.FeedbackFactory(workspace=workspace), f.FeedbackFactory(workspace=workspace)
    feedback_link(feedback=mine, item=item, actor=owner)
    feedback_link(feedback=other, item=item, actor=owner)
    feedback_unlink(feedback=mine, item=item, actor=owner)
    params = {"updated_since": "2000-01-01T00:00:00Z", "feedback": str(mine.pk)}
    rows = admin_api.get(f"{BASE}/links/", params).json()["results"]
    assert [(r["feedback"], r["deleted"]) for r in rows] == [(str(mine.pk), True)]


def test_a_received_after_filter_with_an_unusual_offset_is_compared_in_utc(admin_api, workspace):
    response = admin_api.get(
        f"/api/v1/workspaces/{workspace.slug}/feedback/", {"received_after": "2026-01-21T22:36:59+20:11"}
    )
    assert response.status_code == 200
