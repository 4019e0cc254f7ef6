import pytest
from django.core.cache import cache

from tracker.models import Channel, Feedback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def post(client, workspace, **data):
    fields = {"name": "Ann", "email": "ann@example.com", "body": "Please add gift wrapping", "nps": "9", "website": ""}
    return client.post(f"/{workspace.slug}/feedback/new/", {**fields, **data})


def test_the_public_form_needs_no_login(client, workspace):
    response = client.get(f"/{workspace.slug}/feedback/new/")
    assert response.status_code == 200 and b"Tell us what you think" in response.content


def test_submitting_the_form_stores_web_form_feedback_with_its_customer(client, workspace):
    response = post(client, workspace)
    assert response.status_code == 200 and b"Thank you" in response.content
    fb = Feedback.objects.get()
    assert (fb.channel, fb.nps, fb.customer.email) == (Channel.WEB_FORM, 9, "ann@example.com")


def test_a_filled_honeypot_is_thanked_and_nothing_is_stored(client, workspace):
    response = post(client, workspace, website="http://spam.example")
    assert b"Thank you" in response.content
    assert not Feedback.objects.exists()


def test_an_empty_text_re_renders_with_an_error(client, workspace):
    response = post(client, workspace, body="")
    assert response.status_code == 422
    assert not Feedback.objects.exists()


def test_a_bad_email_re_renders_with_an_error(client, workspace):
    response = post(client, workspace, email="not-an-address")
    assert response.status_code == 422
    assert b"valid email" in response.content.lower() or b"valid e-mail" in response.content.lower()


def test_more_than_five_submissions_an_hour_from_one_address_are_refused(client, workspace):
    for _ in range(5):
        assert post(client, workspace).status_code == 200
    response = post(client, workspace)
    assert response.status_code == 429
    assert Feedback.objects.count() == 5


def test_an_unknown_workspace_has_no_form(client, db):
    assert client.get("/nowhere/feedback/new/").status_code == 404
