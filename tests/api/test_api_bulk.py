"""Bulk upserts of items and feedback: one transaction, answers per entry, all or nothing."""

import pytest

from tests import factories as f
from tests.api.conftest import BASE, ITEMS
from tracker import models as m
from tracker.services.backlog import item_create

BULK = f"{ITEMS}bulk/"


def entry(n, **fields):
    return {"source": "jira", "external_id": f"J-{n}", "title": f"Issue {n}", **fields}


def test_bulk_answers_per_entry_created_updated_and_unchanged(admin_api, project, owner):
    item_create(project=project, actor=owner, title="Old", source="jira", external_id="J-1")
    item_create(project=project, actor=owner, title="Issue 2", source="jira", external_id="J-2")
    response = admin_api.post(BULK, {"items": [entry(1), entry(2), entry(3)]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 1)
    assert [(r["index"], r["result"], r["key"]) for r in body["results"]] == [
        (0, "updated", "SHOP-1"),
        (1, "unchanged", "SHOP-2"),
        (2, "created", "SHOP-3"),
    ]


def test_bulk_created_items_go_to_the_bottom_in_order_with_history(admin_api, project, owner):
    item_create(project=project, actor=owner, title="First")
    admin_api.post(BULK, {"items": [entry(1), entry(2)]}, format="json")
    keys = [r["key"] for r in admin_api.get(ITEMS).json()["results"]]
    assert keys == ["SHOP-1", "SHOP-2", "SHOP-3"]
    assert m.History.objects.filter(action=m.HistoryAction.CREATED).count() == 3


def test_repeating_a_bulk_changes_nothing(admin_api, project):
    batch = {"items": [entry(1, labels=["a"]), entry(2, status="done")]}
    admin_api.post(BULK, batch, format="json")
    body = admin_api.post(BULK, batch, format="json").json()
    assert body["unchanged"] == 2
    assert set(m.BacklogItem.objects.values_list("version", flat=True)) == {1}


def test_bulk_updates_labels_status_and_stamps_done(admin_api, project):
    admin_api.post(BULK, {"items": [entry(1, labels=["a"])]}, format="json")
    admin_api.post(BULK, {"items": [entry(1, labels=["b", "c"], status="done")]}, format="json")
    item = m.BacklogItem.objects.get()
    assert sorted(item.labels.values_list("name", flat=True)) == ["b", "c"]
    assert item.done_at is not None
    assert item.version == 2


def test_one_bad_entry_rejects_the_batch_and_names_each_by_index(admin_api, project):
    batch = {"items": [entry(1), entry(2, status="sleeping"), entry(3), {"source": "jira", "external_id": "J-4"}]}
    response = admin_api.post(BULK, batch, format="json")
    assert response.status_code == 400
    body = response.json()
    assert [e["index"] for e in body["entries"]] == [1, 3]
    assert "status" in body["entries"][0]["fields"]
    assert "title" in body["entries"][1]["fields"]
    assert not m.BacklogItem.objects.exists()


def test_a_repeated_external_id_in_one_batch_is_an_error(admin_api, project):
    response = admin_api.post(BULK, {"items": [entry(1), entry(1)]}, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["entries"]] == [1]


def test_an_unknown_sprint_in_a_batch_is_an_entry_error(admin_api, project):
    response = admin_api.post(BULK, {"items": [entry(1), entry(2, sprint=42)]}, format="json")
    assert response.status_code == 400
    assert response.json()["entries"] == [
        {"index": 1, "fields": {"sprint": ["No sprint with this number in the project."]}}
    ]


def test_more_than_1000_entries_is_a_400(admin_api, project):
    response = admin_api.post(BULK, {"items": [entry(n) for n in range(1001)]}, format="json")
    assert response.status_code == 400
    assert "items" in response.json()["fields"]
    assert not m.BacklogItem.objects.exists()


def test_an_empty_batch_is_a_400(admin_api, project):
    assert admin_api.post(BULK, {"items": []}, format="json").status_code == 400


def test_bulk_needs_write_access(stakeholder_api, project):
    assert stakeholder_api.post(BULK, {"items": [entry(1)]}, format="json").status_code == 403


def test_bulk_of_a_deleted_external_id_is_refused(admin_api, project, owner):
    from tracker.services.backlog import item_delete

    item_delete(
        item=item_create(project=project, actor=owner, title="X", source="jira", external_id="J-1"), actor=owner
    )
    response = admin_api.post(BULK, {"items": [entry(1)]}, format="json")
    assert response.status_code == 400


def test_a_bulk_status_change_refreshes_the_loop_state_of_linked_feedback(admin_api, project, owner):
    from tracker.services.feedback import feedback_link

    item = item_create(project=project, actor=owner, title="Issue 1", source="jira", external_id="J-1")
    feedback = f.FeedbackFactory(workspace=project.workspace)
    feedback_link(feedback=feedback, item=item, actor=owner)
    admin_api.post(BULK, {"items": [entry(1, status="done")]}, format="json")
    feedback.refresh_from_db()
    assert feedback.loop_state == m.LoopState.ADDRESSED


@pytest.fixture
def customer(workspace):
    return f.CustomerFactory(workspace=workspace)


def test_feedback_bulk_upserts_by_external_id(admin_api, customer):
    url = f"{BASE}/feedback/bulk/"
    batch = {
        "feedback": [
            {"source": "desk", "external_id": "t-1", "body": "Slow", "customer": str(customer.pk), "nps": 3},
            {"source": "desk", "external_id": "t-2", "body": "Lovely"},
        ]
    }
    first = admin_api.post(url, batch, format="json").json()
    assert first["created"] == 2
    batch["feedback"][1]["body"] = "Lovely, mostly"
    second = admin_api.post(url, batch, format="json").json()
    assert (second["unchanged"], second["updated"]) == (1, 1)
    assert m.Feedback.objects.get(external_id="t-2").body == "Lovely, mostly"


def test_feedback_bulk_rejects_a_bad_score_and_writes_nothing(admin_api, workspace):
    batch = {
        "feedback": [
            {"source": "desk", "external_id": "t-1", "body": "x"},
            {"source": "desk", "external_id": "t-2", "body": "y", "nps": 11},
        ]
    }
    response = admin_api.post(f"{BASE}/feedback/bulk/", batch, format="json")
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["entries"]] == [1]
    assert not m.Feedback.objects.exists()


def test_feedback_bulk_refuses_another_workspaces_customer(admin_api, foreign):
    batch = {
        "feedback": [{"source": "desk", "external_id": "t-1", "body": "x", "customer": str(foreign["customer"].pk)}]
    }
    response = admin_api.post(f"{BASE}/feedback/bulk/", batch, format="json")
    assert response.status_code == 400
    assert "customer" in response.json()["entries"][0]["fields"]
