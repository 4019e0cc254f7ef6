"""Concurrent clients on PostgreSQL: upserts and idempotent retries never double a write."""

import threading

import pytest
from django.db import connection

from tests.api.conftest import BASE, ITEMS, client_for
from tracker import models as m


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def runner(index, call):
        barrier.wait()
        try:
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def two_clients(transactional_db, on_postgres):
    from tests import factories as f

    workspace = f.WorkspaceFactory(slug="acme-test")
    f.ProjectFactory(workspace=workspace, key="SHOP")
    user = f.UserFactory(username="owner")
    f.MembershipFactory(workspace=workspace, user=user, role=m.WorkspaceRole.OWNER)
    return client_for(user, workspace), client_for(user, workspace)


def test_two_concurrent_upserts_of_a_new_external_id_make_one_item(two_clients):
    a, b = two_clients
    url = f"{ITEMS}by-external/jira/J-1/"
    codes = run_together(
        lambda: a.put(url, {"title": "From A"}, format="json").status_code,
        lambda: b.put(url, {"title": "From B"}, format="json").status_code,
    )
    assert sorted(codes) == [200, 201]
    assert m.BacklogItem.objects.filter(external_id="J-1").count() == 1


def test_two_concurrent_bulks_with_the_same_external_ids_make_each_item_once(two_clients):
    a, b = two_clients
    batch = {"items": [{"source": "jira", "external_id": f"J-{n}", "title": f"Issue {n}"} for n in range(50)]}
    codes = run_together(
        lambda: a.post(f"{ITEMS}bulk/", batch, format="json").status_code,
        lambda: b.post(f"{ITEMS}bulk/", batch, format="json").status_code,
    )
    assert codes == [200, 200]
    assert m.BacklogItem.objects.count() == 50
    assert sorted(m.BacklogItem.objects.values_list("number", flat=True)) == list(range(1, 51))


def test_a_retry_racing_the_first_request_creates_once(two_clients):
    a, _ = two_clients
    codes = run_together(
        lambda: a.post(ITEMS, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="race").status_code,
        lambda: a.post(ITEMS, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="race").status_code,
    )
    assert codes == [201, 201]
    assert m.BacklogItem.objects.count() == 1


def test_concurrent_feedback_upserts_of_one_external_id_make_one(two_clients):
    a, b = two_clients
    url = f"{BASE}/feedback/by-external/desk/t-1/"
    run_together(
        lambda: a.put(url, {"body": "A"}, format="json").status_code,
        lambda: b.put(url, {"body": "B"}, format="json").status_code,
    )
    assert m.Feedback.objects.filter(external_id="t-1").count() == 1
