import csv
import io
import json

import pytest

from tracker.models import Channel, Feedback, ItemStatus
from tracker.services.backlog import item_update
from tracker.services.sprints import sprint_close

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(active_sprint):
    sprint, (done, slipped) = active_sprint(2)
    item_update(item=done, actor=None, status=ItemStatus.DONE)
    return sprint_close(sprint=sprint, actor=None), done, slipped


def test_the_review_shows_quotes_and_customers_of_completed_work(login, stakeholder, url, closed):
    sprint, done, _ = closed
    body = login(stakeholder).get(url("sprints/1/review/")).content.decode()
    customer = done.feedback_links.get().feedback.customer
    assert "fix 0" in body and customer.name in body
    assert "Cost of carry-over" in body and "Story 1" in body
    assert body.count("<svg") >= 3


def test_the_live_review_of_an_active_sprint_renders(login, po, url, active_sprint):
    active_sprint(1)
    assert b"Live" in login(po).get(url("sprints/1/review/")).content


def test_a_planned_sprint_has_no_review(login, po, url, project):
    from tracker.services.sprints import sprint_create

    sprint_create(project=project, actor=None)
    assert login(po).get(url("sprints/1/review/")).status_code == 404


def test_the_review_exports_markdown_csv_and_json(login, po, url, closed):
    client = login(po)
    md = client.get(url("sprints/1/review/?format=md"))
    assert md["Content-Type"].startswith("text/markdown") and b"> fix 0" in md.content
    rows = list(csv.DictReader(io.StringIO(client.get(url("sprints/1/review/?format=csv")).content.decode())))
    assert rows[0]["item"] == "SHOP-1" and rows[0]["quote"] == "fix 0"
    data = json.loads(client.get(url("sprints/1/review/?format=json")).content)
    assert data["completed"]["items"] == 1


def test_csv_cells_that_look_like_formulas_are_kept_as_text(login, po, url, active_sprint):
    sprint, (item,) = active_sprint(1)
    item_update(item=item, actor=None, status=ItemStatus.DONE, title="=HYPERLINK(evil)")
    text = login(po).get(url("sprints/1/review/?format=csv")).content.decode()
    assert "'=HYPERLINK(evil)" in text


def test_the_page_links_a_print_stylesheet(login, po, url, closed):
    assert b'media="print"' in login(po).get(url("sprints/1/review/")).content


def test_feedback_captured_in_the_review_meeting_lands_in_the_inbox(login, stakeholder, url, closed, workspace):
    response = login(stakeholder).post(
        url("sprints/1/review/feedback/"),
        {"customer_name": "Mia", "customer_email": "mia@example.com", "body": "Love the new checkout"},
    )
    assert response.status_code == 302
    fb = Feedback.objects.get(body="Love the new checkout")
    assert fb.channel == Channel.SPRINT_REVIEW and fb.customer.email == "mia@example.com"


def test_review_feedback_without_text_is_refused(login, stakeholder, url, closed):
    response = login(stakeholder).post(url("sprints/1/review/feedback/"), {"customer_name": "Mia", "body": ""})
    assert response.status_code == 422
    assert not Feedback.objects.filter(channel=Channel.SPRINT_REVIEW).exists()


@pytest.mark.parametrize("size", [2, 20])
def test_the_review_runs_a_bounded_number_of_queries(
    login, po, url, active_sprint, size, django_assert_max_num_queries
):
    sprint, items = active_sprint(size)
    for item in items[:-1]:
        item_update(item=item, actor=None, status=ItemStatus.DONE)
    client = login(po)
    # session, user, membership with its workspace, project roles, project (5); sprint (1);
    # sprint_review live (at most 10, see tests/test_sprint_review.py); sprint switcher (1);
    # nav (2) = 19.
    with django_assert_max_num_queries(19):
        assert client.get(url("sprints/1/review/")).status_code == 200
