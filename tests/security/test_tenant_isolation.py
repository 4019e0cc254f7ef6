"""Another workspace's objects are always 404 or absent: by id, by key, by external id, in
search, in lists, in exports and in webhooks. The foreign workspace's rows carry the same
external ids as ours and the word "Globex" everywhere, so any leak shows."""

import pytest
from rest_framework.test import APIClient

from tests.security.conftest import KEY, SLUG
from tracker import models as m

A = f"/api/v1/workspaces/{SLUG}"
LEAK = "Globex"


@pytest.fixture
def api(tenant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.secrets['token_write']}")
    return client


@pytest.fixture
def web(client, tenant):
    client.force_login(tenant.users["admin"])
    return client


def test_foreign_objects_by_id_answer_404_in_the_api(api, tenant):
    fx = tenant.foreign
    for path in (
        f"{A}/customers/{fx['customer'].pk}/",
        f"{A}/feedback/{fx['feedback'].pk}/",
        f"{A}/feedback/{fx['feedback'].pk}/links/",
        f"{A}/objectives/{fx['objective'].pk}/",
        f"{A}/webhooks/{fx['webhook'].pk}/",
        f"{A}/tokens/{fx['token'].pk}/",
        f"{A}/projects/{fx['project'].key}/",
        f"{A}/projects/{fx['project'].key}/items/1/",
        f"{A}/projects/{fx['project'].key}/sprints/1/review/",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert LEAK not in response.content.decode(), path
    assert api.delete(f"{A}/webhooks/{fx['webhook'].pk}/").status_code == 404
    assert api.delete(f"{A}/tokens/{fx['token'].pk}/").status_code == 404
    assert api.patch(f"{A}/customers/{fx['customer'].pk}/", {"name": "x"}, format="json").status_code == 404
    assert m.Webhook.objects.filter(pk=fx["webhook"].pk).exists()
    fx["token"].refresh_from_db()
    assert fx["token"].revoked_at is None


def test_the_same_external_id_finds_only_our_own_object(api, tenant):
    item = api.get(f"{A}/projects/{KEY}/items/by-external/jira/SHARED-1/").json()
    assert item["title"] == "Checkout" and item["id"] == str(tenant.item.pk)
    customer = api.get(f"{A}/customers/by-external/crm/SHARED-C/").json()
    assert customer["id"] == str(tenant.customer.pk)
    feedback = api.get(f"{A}/feedback/by-external/desk/SHARED-F/").json()
    assert feedback["id"] == str(tenant.feedback.pk)
    # Upserting by that external id changes ours and never theirs.
    assert api.put(f"{A}/customers/by-external/crm/SHARED-C/", {"name": "Renamed"}, format="json").status_code == 200
    tenant.foreign["customer"].refresh_from_db()
    assert tenant.foreign["customer"].name == "Globex Confidential Customer"


def test_references_to_foreign_objects_are_refused_and_write_nothing(api, tenant):
    fx = tenant.foreign
    before = m.Feedback.objects.count()
    response = api.post(f"{A}/feedback/", {"body": "x", "customer": str(fx["customer"].pk)}, format="json")
    assert response.status_code == 400 and "customer" in response.json()["fields"]
    assert m.Feedback.objects.count() == before
    response = api.patch(
        f"{A}/feedback/{tenant.feedback.pk}/",
        {"triage": "duplicate", "duplicate_of": str(fx["feedback"].pk)},
        format="json",
    )
    assert response.status_code == 400
    assert api.post(f"{A}/feedback/{tenant.feedback.pk}/links/", {"item": "OPS-1"}, format="json").status_code == 404
    response = api.patch(f"{A}/projects/{KEY}/items/1/", {"objectives": [str(fx["objective"].pk)]}, format="json")
    assert response.status_code == 400
    assert not m.FeedbackLink.objects.filter(item=fx["item"], feedback=tenant.feedback).exists()
    assert not tenant.item.objectives.exists()


def test_lists_and_feeds_hold_only_our_rows(api, tenant):
    for path in (
        "/api/v1/workspaces/",
        f"{A}/members/",
        f"{A}/projects/",
        f"{A}/projects/{KEY}/items/",
        f"{A}/projects/{KEY}/items/?updated_since=2000-01-01T00:00:00Z",
        f"{A}/customers/",
        f"{A}/feedback/",
        f"{A}/links/",
        f"{A}/links/?feedback={tenant.foreign['feedback'].pk}",
        f"{A}/objectives/",
        f"{A}/webhooks/",
        f"{A}/tokens/",
    ):
        response = api.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert LEAK not in body and "gary" not in body and "globex" not in body.lower(), path


def test_a_foreign_token_opens_nothing_here(tenant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.foreign['secret']}")
    assert client.get(f"{A}/").status_code == 404
    assert client.get(f"{A}/feedback/").status_code == 404
    assert client.get(f"{A}/projects/{KEY}/items/by-external/jira/SHARED-1/").status_code == 404
    assert client.put(f"{A}/customers/by-external/crm/X/", {"name": "x"}, format="json").status_code == 404


def test_searches_never_find_foreign_items_or_feedback(web, tenant):
    for path in (
        f"/{SLUG}/inbox/items/?q=Globex",
        f"/{SLUG}/inbox/items/?q=secret",
        f"/{SLUG}/inbox/items/?q=OPS-1",
        f"/{SLUG}/inbox/feedback/?q=Globex",
        f"/{SLUG}/inbox/feedback/?q=secret",
        f"/{SLUG}/inbox/?q=Globex&triage=all",
        f"/{SLUG}/{KEY}/backlog/?q=Globex",
        f"/{SLUG}/{KEY}/planning/?q=Globex",
    ):
        response = web.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        for secret in ("Globex secret roadmap", "Globex secret complaint", "Globex Confidential Customer", "OPS-1<"):
            assert secret not in body, (path, secret)


def test_foreign_objects_by_id_answer_404_on_web_pages(web, tenant):
    fx = tenant.foreign
    assert web.get(f"/{SLUG}/inbox/{fx['feedback'].pk}/", HTTP_HX_REQUEST="true").status_code == 404
    assert web.get(f"/{SLUG}/inbox/?selected={fx['feedback'].pk}").status_code == 404
    assert web.get(f"/{SLUG}/customers/{fx['customer'].pk}/").status_code == 404
    assert web.get(f"/{SLUG}/{fx['project'].key}/backlog/").status_code == 404
    assert web.get(f"/{OTHER}/", follow=False).status_code == 404


OTHER = "globex-sec"


def test_triage_and_planning_refuse_foreign_objects(web, tenant):
    fx = tenant.foreign
    fx["feedback"].refresh_from_db()
    triage_before = fx["feedback"].triage
    hx = {"HTTP_HX_REQUEST": "true"}
    link = web.post(f"/{SLUG}/inbox/{tenant.feedback.pk}/link/", {"item": str(fx["item"].pk)}, **hx)
    assert link.status_code == 404
    dup = web.post(f"/{SLUG}/inbox/{tenant.feedback.pk}/duplicate/", {"original": str(fx["feedback"].pk)}, **hx)
    assert dup.status_code == 404
    assert web.post(f"/{SLUG}/inbox/{fx['feedback'].pk}/dismiss/", **hx).status_code == 404
    move = web.post(f"/{SLUG}/{KEY}/backlog/move/", {"item": str(fx["item"].pk), "position": "top"})
    assert move.status_code == 404
    move = web.post(f"/{SLUG}/{KEY}/backlog/move/", {"item": str(tenant.item.pk), "before": str(fx["item"].pk)})
    assert move.status_code == 404
    plan = web.post(f"/{SLUG}/{KEY}/sprints/2/plan/", {"item": str(fx["item"].pk)})
    assert plan.status_code == 422
    fx["item"].refresh_from_db()
    fx["feedback"].refresh_from_db()
    assert fx["item"].sprint_id is None
    assert fx["feedback"].triage == triage_before
    assert not m.FeedbackLink.objects.filter(feedback=tenant.feedback, item=fx["item"]).exists()


@pytest.mark.parametrize("export", ["md", "csv", "json"])
def test_review_exports_hold_only_our_customers(web, tenant, export):
    response = web.get(f"/{SLUG}/{KEY}/sprints/1/review/?format={export}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Checkout" in body or export == "csv"
    assert LEAK not in body
    assert web.get(f"/{SLUG}/{tenant.foreign['project'].key}/sprints/1/review/?format={export}").status_code == 404


def test_a_guest_sees_the_item_but_not_the_customers_behind_it(client, tenant):
    client.force_login(tenant.users["guest"])
    body = client.get(f"/{SLUG}/{KEY}/items/1/").content.decode()
    assert "Checkout" in body
    assert "Ada Customer" not in body and "Customer feedback behind it" not in body
    assert client.get(f"/{SLUG}/{KEY}/sprints/1/review/?format=csv").status_code == 403
    client.force_login(tenant.users["stakeholder"])
    assert "Ada Customer" in client.get(f"/{SLUG}/{KEY}/items/1/").content.decode()
