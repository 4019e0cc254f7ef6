"""Web forms: CSRF on every state change, no open redirect after login, no logout by GET."""

from django.test import Client

from tests.security.conftest import KEY, SLUG
from tracker import models as m


def test_a_form_post_without_the_csrf_token_is_refused_and_writes_nothing(tenant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant.users["admin"])
    before = m.BacklogItem.objects.count()
    for path, data in (
        (f"/{SLUG}/{KEY}/backlog/items/", {"title": "Forged", "kind": "story", "position": "top"}),
        (f"/{SLUG}/{KEY}/items/1/comments/", {"body": "Forged"}),
        (f"/{SLUG}/{KEY}/sprints/1/close/", {"carry_over_to": ""}),
        (f"/{SLUG}/inbox/{tenant.feedback.pk}/dismiss/", {}),
        (f"/{SLUG}/feedback/new/", {"body": "Forged", "website": ""}),
    ):
        assert client.post(path, data).status_code == 403, path
    assert m.BacklogItem.objects.count() == before
    assert not m.Comment.objects.filter(body="Forged").exists()
    tenant.active.refresh_from_db()
    assert tenant.active.state == m.SprintState.ACTIVE


def test_login_never_redirects_off_site(client, tenant):
    user = tenant.users["developer"]
    user.set_password("pw")
    user.save(update_fields=["password"])
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/login/", {"username": "developer", "password": "pw", "next": target})
        assert response.status_code == 302
        assert response["Location"].startswith("/") and not response["Location"].startswith("//"), target
        assert "evil" not in response["Location"] and "javascript" not in response["Location"]
        client.logout()


def test_logout_needs_a_post(client, tenant):
    client.force_login(tenant.users["developer"])
    assert client.get("/logout/").status_code == 405
    assert client.get(f"/{SLUG}/").status_code == 200
