import pytest

from tracker.models import BacklogItem, Sprint, SprintState
from tracker.services.sprints import sprint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(project):
    return sprint_create(project=project, actor=None, name="Sprint 1", capacity=5)


def test_planning_shows_the_backlog_beside_the_planned_sprint(login, po, url, planned, make_items):
    make_items(2)
    body = login(po).get(url("planning/")).content.decode()
    assert "Sprint 1" in body and "Story 0" in body
    assert 'data-plan-list="sprint"' in body
    assert "<svg" in body and "Segment mix" in body


def test_planning_without_a_planned_sprint_offers_to_create_one(login, sm, url):
    body = login(sm).get(url("planning/")).content.decode()
    assert "Create the next sprint" in body


def test_creating_a_sprint_numbers_it_and_opens_it(login, sm, url, project):
    response = login(sm).post(url("sprints/new/"))
    assert response.status_code == 302
    assert Sprint.objects.filter(project=project, state=SprintState.PLANNED).count() == 1


def test_dragging_items_into_the_sprint_plans_them(login, sm, url, planned, make_items):
    a, b = make_items(2)
    response = login(sm).post(url("sprints/1/plan/"), {"item": [str(a.pk)], "op": "add"}, HTTP_X_LOOPWISE_DRAG="1")
    assert response.status_code == 204
    assert response["HX-Trigger"] == "planning-changed"
    assert list(BacklogItem.objects.in_sprint(planned)) == [a]


def test_removing_an_item_sends_it_back_to_the_backlog(login, sm, url, planned, make_items):
    (a,) = make_items(1)
    client = login(sm)
    client.post(url("sprints/1/plan/"), {"item": str(a.pk), "op": "add"}, HTTP_HX_REQUEST="true")
    response = client.post(url("sprints/1/plan/"), {"item": str(a.pk), "op": "remove"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'id="planning-board"' in response.content
    a.refresh_from_db()
    assert a.sprint_id is None


def test_totals_warn_when_the_commitment_exceeds_capacity(login, sm, url, planned, make_items):
    items = make_items(3)  # 6 points against a capacity of 5
    client = login(sm)
    client.post(url("sprints/1/plan/"), {"item": [str(i.pk) for i in items], "op": "add"})
    body = client.get(url("sprints/1/totals/")).content.decode()
    assert "over the capacity of 5" in body


def test_a_developer_cannot_plan_a_sprint(login, dev, url, planned, make_items):
    (a,) = make_items(1)
    assert login(dev).post(url("sprints/1/plan/"), {"item": str(a.pk), "op": "add"}).status_code == 403
    a.refresh_from_db()
    assert a.sprint_id is None


def test_editing_the_sprint_saves_goal_dates_and_capacity(login, sm, url, planned):
    response = login(sm).post(
        url("sprints/1/edit/"),
        {
            "version": planned.version,
            "name": "Sprint 1",
            "goal": "Faster checkout",
            "start_date": "2026-01-05",
            "end_date": "2026-01-16",
            "capacity": "30",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and b"Saved" in response.content
    planned.refresh_from_db()
    assert (planned.goal, planned.capacity) == ("Faster checkout", 30)


def test_an_end_before_the_start_re_renders_with_the_error(login, sm, url, planned):
    response = login(sm).post(
        url("sprints/1/edit/"),
        {
            "version": planned.version,
            "name": "S",
            "goal": "",
            "start_date": "2026-01-05",
            "end_date": "2026-01-01",
            "capacity": "3",
        },
    )
    assert response.status_code == 422
    assert b"end on or after its start" in response.content
    planned.refresh_from_db()
    assert planned.name == "Sprint 1"


def test_a_stale_sprint_edit_is_reported_not_saved(login, sm, url, planned):
    response = login(sm).post(
        url("sprints/1/edit/"),
        {
            "version": planned.version + 5,
            "name": "Renamed",
            "goal": "",
            "start_date": "2026-01-05",
            "end_date": "2026-01-10",
            "capacity": "3",
        },
    )
    assert response.status_code == 422
    assert b"changed this sprint meanwhile" in response.content
    planned.refresh_from_db()
    assert planned.name == "Sprint 1"


def test_starting_the_sprint_opens_the_board(login, sm, url, planned, make_items):
    make_items(1)
    response = login(sm).post(url("sprints/1/start/"))
    assert response["Location"].endswith("/SHOP/board/")
    planned.refresh_from_db()
    assert planned.state == SprintState.ACTIVE


@pytest.mark.parametrize("size", [3, 30])
def test_planning_runs_a_bounded_number_of_queries(
    login, sm, url, planned, make_items, size, django_assert_max_num_queries
):
    items = make_items(size)
    client = login(sm)
    client.post(url("sprints/1/plan/"), {"item": [str(i.pk) for i in items[: size // 2]], "op": "add"})
    # session, user, membership with its workspace, project, project roles (5); planned
    # sprint (1); backlog count, page, sprint items (3); velocity, mix estimates, mix links
    # (3); planned sprints, active sprint (2); nav (2) = 16.
    with django_assert_max_num_queries(16):
        assert client.get(url("planning/")).status_code == 200


def test_searching_the_planning_backlog_narrows_it(login, sm, url, planned, make_items):
    make_items(3, linked=False)
    body = login(sm).get(url("planning/?q=Story 2"), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="planning-board"')
    assert "Story 2" in body and "Story 1" not in body
