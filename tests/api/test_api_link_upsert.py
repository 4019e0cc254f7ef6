"""Upserting a feedback link by the external ids of both its ends."""

from tests import factories as f
from tracker.models import FeedbackLink

URL = "/api/v1/workspaces/acme-test/links/by-external/"


def ends(workspace, project):
    feedback = f.FeedbackFactory(workspace=workspace, source="zendesk", external_id="ZD-1")
    item = f.ItemFactory(project=project, source="jira", external_id="J-7")
    return feedback, item


def body(**overrides):
    return {
        "feedback_source": "zendesk", "feedback_external_id": "ZD-1", "project": "SHOP",
        "item_source": "jira", "item_external_id": "J-7", "quote": "five clicks to pay", **overrides,
    }  # fmt: skip


def test_a_link_is_created_by_the_external_ids_of_both_ends(admin_api, workspace, project):
    feedback, item = ends(workspace, project)
    response = admin_api.put(URL, body(), format="json")
    assert response.status_code == 201
    assert FeedbackLink.objects.get(feedback=feedback, item=item).quote == "five clicks to pay"


def test_repeating_the_upsert_changes_nothing(admin_api, workspace, project):
    ends(workspace, project)
    first = admin_api.put(URL, body(), format="json")
    again = admin_api.put(URL, body(), format="json")
    assert again.status_code == 200 and again["ETag"] == first["ETag"]
    assert FeedbackLink.objects.count() == 1


def test_a_new_quote_updates_the_link(admin_api, workspace, project):
    ends(workspace, project)
    admin_api.put(URL, body(), format="json")
    response = admin_api.put(URL, body(quote="checkout takes forever"), format="json")
    assert response.status_code == 200 and response.json()["quote"] == "checkout takes forever"


def test_an_unknown_end_is_a_field_error_and_writes_nothing(admin_api, workspace, project):
    ends(workspace, project)
    response = admin_api.put(URL, body(item_external_id="J-404"), format="json")
    assert response.status_code == 400 and "item_external_id" in response.json()["fields"]
    assert not FeedbackLink.objects.exists()


def test_an_item_of_another_workspace_cannot_be_reached(admin_api, workspace, project, foreign):
    ends(workspace, project)
    response = admin_api.put(URL, body(project="OPS", item_external_id="OPS-1"), format="json")
    assert response.status_code == 404
    assert not FeedbackLink.objects.exists()


def test_a_developer_may_not_link_feedback(developer_api, workspace, project):
    ends(workspace, project)
    assert developer_api.put(URL, body(), format="json").status_code == 403
