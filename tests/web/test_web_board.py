import pytest

from tests import factories as f
from tracker.models import BacklogItem, History, ItemStatus, Sprint, SprintState
from tracker.services.backlog import item_update
from tracker.services.sprints import sprint_create

pytestmark = pytest.mark.django_db


def test_the_board_shows_the_active_sprint_in_columns_with_a_burndown(login, dev, url, active_sprint):
    sprint, items = active_sprint(2)
    body = login(dev).get(url("board/")).content.decode()
    assert 'data-board-column="in_progress"' in body
    assert "Story 0" in body and "Burndown" in body and "<svg" in body


def test_without_an_active_sprint_the_board_points_to_planning(login, dev, url):
    assert b"No active sprint" in login(dev).get(url("board/")).content


def test_moving_a_card_changes_its_status_and_writes_history(login, dev, url, active_sprint):
    sprint, (item, *_) = active_sprint(2)
    response = login(dev).post(
        url("items/1/quick/"),
        {"version": item.version, "status": "in_progress", "view": "board"},
        HTTP_X_LOOPWISE_DRAG="1",
    )
    assert response.status_code == 200
    assert b'data-status="in_progress"' in response.content
    assert History.objects.filter(item=item, field="status", new="in_progress").exists()


def test_a_stakeholder_cannot_move_cards(login, stakeholder, url, active_sprint):
    sprint, (item, *_) = active_sprint(1)
    response = login(stakeholder).post(url("items/1/quick/"), {"version": item.version, "status": "done"})
    assert response.status_code == 403


def test_the_close_dialog_previews_the_customers_who_will_be_told(login, sm, url, active_sprint, workspace):
    sprint, (done, open_item) = active_sprint(2)
    item_update(item=done, actor=None, status=ItemStatus.DONE)
    body = login(sm).get(url("board/")).content.decode()
    dialog = body[body.index('id="close-dialog"') :]
    told = done.feedback_links.get().feedback.customer
    waiting = open_item.feedback_links.get().feedback.customer
    assert told.email in dialog and waiting.email not in dialog


def test_customers_without_email_are_not_in_the_preview(login, sm, url, active_sprint):
    sprint, (done,) = active_sprint(1)
    customer = done.feedback_links.get().feedback.customer
    customer.email = ""
    customer.save(update_fields=["email"])
    item_update(item=done, actor=None, status=ItemStatus.DONE)
    assert b"Customers who will be told (0)" in login(sm).get(url("board/")).content


def test_closing_the_sprint_carries_unfinished_work_into_the_next_and_opens_the_review(
    login, sm, url, project, active_sprint
):
    sprint, (done, open_item) = active_sprint(2)
    item_update(item=done, actor=None, status=ItemStatus.DONE)
    nxt = sprint_create(project=project, actor=None, name="Sprint 2")
    response = login(sm).post(url(f"sprints/{sprint.number}/close/"), {"carry_over_to": str(nxt.number)})
    assert response["Location"].endswith(f"/sprints/{sprint.number}/review/")
    sprint.refresh_from_db()
    open_item.refresh_from_db()
    assert sprint.state == SprintState.CLOSED and open_item.sprint_id == nxt.pk


def test_closing_to_the_backlog_unplans_unfinished_items(login, sm, url, active_sprint):
    sprint, (item,) = active_sprint(1)
    login(sm).post(url(f"sprints/{sprint.number}/close/"), {"carry_over_to": ""})
    item.refresh_from_db()
    assert item.sprint_id is None


def test_a_developer_cannot_close_the_sprint(login, dev, url, active_sprint):
    sprint, _ = active_sprint(1)
    assert login(dev).post(url(f"sprints/{sprint.number}/close/")).status_code == 403
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.ACTIVE


@pytest.mark.parametrize("size", [2, 20])
def test_the_board_runs_a_bounded_number_of_queries(login, sm, url, active_sprint, size, django_assert_max_num_queries):
    sprint, items = active_sprint(size)
    for item in items[: size // 2]:
        item_update(item=item, actor=None, status=ItemStatus.DONE)
    client = login(sm)
    # session, user, membership with its workspace, project, project roles (5); active
    # sprint, items, burndown history (3); planned sprints for the dialog (1);
    # notification_preview (5); nav (2) = 16.
    with django_assert_max_num_queries(16):
        assert client.get(url("board/")).status_code == 200
    assert BacklogItem.objects.count() == size and f  # factories stay importable for other tests


def test_the_close_dialog_says_when_customer_digests_are_off(login, sm, url, project, active_sprint):
    sprint, (done,) = active_sprint(1)
    item_update(item=done, actor=None, status=ItemStatus.DONE)
    project.notify_customers = False
    project.save(update_fields=["notify_customers"])
    body = login(sm).get(url("board/")).content.decode()
    assert "Customer digests are turned off" in body
