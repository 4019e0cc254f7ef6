"""Deleting feedback and customers over the API: 204, If-Match, access, and tombstones for sync."""

import pytest

from tests.api.conftest import BASE, ITEMS
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.customers import customer_create
from tracker.services.feedback import feedback_create, feedback_link

FEEDBACK = f"{BASE}/feedback/"
CUSTOMERS = f"{BASE}/customers/"
SINCE_EVER = {"updated_since": "2000-01-01T00:00:00Z"}


@pytest.fixture
def customer(workspace):
    return customer_create(workspace=workspace, name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def feedback(workspace, owner, customer):
    return feedback_create(workspace=workspace, actor=owner, body="Five clicks to pay.", customer=customer)


@pytest.fixture
def item(project, owner):
    return item_create(project=project, actor=owner, title="One-page checkout")


# --- Feedback ------------------------------------------------------------------------------


def test_deleting_feedback_answers_204_and_drops_it_from_the_list(admin_api, feedback):
    response = admin_api.delete(f"{FEEDBACK}{feedback.pk}/")
    assert response.status_code == 204
    assert admin_api.get(FEEDBACK).json()["results"] == []
    assert admin_api.get(f"{FEEDBACK}{feedback.pk}/").status_code == 404
    assert not m.Feedback.objects.filter(pk=feedback.pk).exists()


def test_deleted_feedback_reaches_a_syncing_client_as_a_tombstone(admin_api, feedback):
    cursor = admin_api.get(FEEDBACK, SINCE_EVER).json()["cursor"]
    admin_api.delete(f"{FEEDBACK}{feedback.pk}/")
    rows = admin_api.get(FEEDBACK, {"cursor": cursor}).json()["results"]
    assert [(r["id"], r["deleted"]) for r in rows] == [(str(feedback.pk), True)]


def test_deleting_feedback_with_a_stale_if_match_is_412_and_deletes_nothing(admin_api, feedback):
    response = admin_api.delete(f"{FEEDBACK}{feedback.pk}/", HTTP_IF_MATCH=f'"{feedback.version + 1}"')
    assert response.status_code == 412
    assert m.Feedback.objects.filter(pk=feedback.pk).exists()


def test_deleting_feedback_with_the_current_if_match_succeeds(admin_api, feedback):
    response = admin_api.delete(f"{FEEDBACK}{feedback.pk}/", HTTP_IF_MATCH=f'"{feedback.version}"')
    assert response.status_code == 204
    assert not m.Feedback.objects.filter(pk=feedback.pk).exists()


def test_another_workspaces_feedback_cannot_be_deleted_and_is_404(admin_api, foreign):
    assert admin_api.delete(f"{FEEDBACK}{foreign['feedback'].pk}/").status_code == 404
    assert m.Feedback.objects.filter(pk=foreign["feedback"].pk).exists()


def test_a_developer_may_not_delete_feedback(developer_api, feedback):
    assert developer_api.delete(f"{FEEDBACK}{feedback.pk}/").status_code == 403
    assert m.Feedback.objects.filter(pk=feedback.pk).exists()


def test_a_read_only_token_may_not_delete_feedback(read_api, feedback):
    assert read_api.delete(f"{FEEDBACK}{feedback.pk}/").status_code == 403
    assert m.Feedback.objects.filter(pk=feedback.pk).exists()


def test_a_product_owner_may_delete_feedback(po_api, feedback):
    assert po_api.delete(f"{FEEDBACK}{feedback.pk}/").status_code == 204


def test_deleting_linked_feedback_removes_its_links_and_lowers_the_items_impact(admin_api, feedback, item, owner):
    feedback_link(feedback=feedback, item=item, actor=owner, quote="five clicks")
    before = admin_api.get(f"{ITEMS}{item.number}/").json()
    assert before["feedback_count"] == 1
    assert admin_api.delete(f"{FEEDBACK}{feedback.pk}/").status_code == 204
    after = admin_api.get(f"{ITEMS}{item.number}/").json()
    assert (after["feedback_count"], after["customer_count"]) == (0, 0)
    assert after["impact"] < before["impact"]
    assert not m.FeedbackLink.objects.filter(item=item).exists()


def test_deleting_linked_feedback_leaves_a_link_tombstone(admin_api, feedback, item, owner):
    link = feedback_link(feedback=feedback, item=item, actor=owner)
    cursor = admin_api.get(f"{BASE}/links/", SINCE_EVER).json()["cursor"]
    admin_api.delete(f"{FEEDBACK}{feedback.pk}/")
    rows = admin_api.get(f"{BASE}/links/", {"cursor": cursor}).json()["results"]
    assert [(r["id"], r["deleted"]) for r in rows] == [(str(link.pk), True)]


# --- Customers -----------------------------------------------------------------------------


def test_deleting_a_customer_answers_204_and_drops_them_from_the_list(admin_api, customer):
    response = admin_api.delete(f"{CUSTOMERS}{customer.pk}/")
    assert response.status_code == 204
    assert admin_api.get(CUSTOMERS).json()["results"] == []
    assert not m.Customer.objects.filter(pk=customer.pk).exists()


def test_a_deleted_customer_reaches_a_syncing_client_as_a_tombstone(admin_api, customer):
    cursor = admin_api.get(CUSTOMERS, SINCE_EVER).json()["cursor"]
    admin_api.delete(f"{CUSTOMERS}{customer.pk}/")
    rows = admin_api.get(CUSTOMERS, {"cursor": cursor}).json()["results"]
    assert [(r["id"], r["deleted"]) for r in rows] == [(str(customer.pk), True)]


def test_deleting_a_customer_keeps_their_feedback_unattributed(admin_api, customer, feedback):
    assert admin_api.delete(f"{CUSTOMERS}{customer.pk}/").status_code == 204
    row = admin_api.get(f"{FEEDBACK}{feedback.pk}/").json()
    assert row["customer"] is None
    assert row["version"] > feedback.version


def test_unattributed_feedback_reaches_a_syncing_client_after_its_customer_is_deleted(admin_api, customer, feedback):
    cursor = admin_api.get(FEEDBACK, SINCE_EVER).json()["cursor"]
    admin_api.delete(f"{CUSTOMERS}{customer.pk}/")
    rows = admin_api.get(FEEDBACK, {"cursor": cursor}).json()["results"]
    assert [(r["id"], r["customer"], r["deleted"]) for r in rows] == [(str(feedback.pk), None, False)]


def test_deleting_a_customer_with_a_stale_if_match_is_412_and_deletes_nothing(admin_api, customer, feedback):
    response = admin_api.delete(f"{CUSTOMERS}{customer.pk}/", HTTP_IF_MATCH=f'"{customer.version + 1}"')
    assert response.status_code == 412
    assert m.Customer.objects.filter(pk=customer.pk).exists()
    assert m.Feedback.objects.get(pk=feedback.pk).customer_id == customer.pk


def test_another_workspaces_customer_cannot_be_deleted_and_is_404(admin_api, foreign):
    assert admin_api.delete(f"{CUSTOMERS}{foreign['customer'].pk}/").status_code == 404
    assert m.Customer.objects.filter(pk=foreign["customer"].pk).exists()


def test_a_developer_may_not_delete_a_customer(developer_api, customer):
    assert developer_api.delete(f"{CUSTOMERS}{customer.pk}/").status_code == 403
    assert m.Customer.objects.filter(pk=customer.pk).exists()


def test_a_guest_may_not_delete_a_customer(guest_api, customer):
    assert guest_api.delete(f"{CUSTOMERS}{customer.pk}/").status_code == 403
    assert m.Customer.objects.filter(pk=customer.pk).exists()


def test_a_tombstone_carries_the_external_id_a_connector_keys_by(admin_api, workspace):
    put = admin_api.put(f"{FEEDBACK}by-external/zendesk/ZD-9/", {"body": "Slow export"}, format="json")
    cursor = admin_api.get(FEEDBACK, SINCE_EVER).json()["cursor"]
    admin_api.delete(f"{FEEDBACK}{put.json()['id']}/")
    (row,) = admin_api.get(FEEDBACK, {"cursor": cursor}).json()["results"]
    assert (row["source"], row["external_id"], row["deleted"]) == ("zendesk", "ZD-9", True)
