from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from tests import factories as f
from tracker.models import BacklogItem, LoopState, Sprint, SprintState
from tracker.services.backlog import item_create, item_update
from tracker.services.errors import ValidationError
from tracker.services.feedback import feedback_link
from tracker.services.sprints import (
    sprint_add_items,
    sprint_close,
    sprint_create,
    sprint_remove_items,
    sprint_start,
    sprint_update,
)


@pytest.fixture
def planned(project):
    return sprint_create(project=project, actor=None, capacity=20, goal="Faster checkout")


def items(project, n, estimate=3):
    return [item_create(project=project, actor=None, title=f"Item {i}", estimate=estimate) for i in range(n)]


def test_sprints_are_numbered_per_project_with_the_default_length(project):
    first = sprint_create(project=project, actor=None, start_date=timezone.localdate())
    second = sprint_create(project=project, actor=None)
    assert (first.number, first.name, second.number) == (1, "Sprint 1", 2)
    assert (first.end_date - first.start_date).days == project.default_sprint_days - 1


def test_a_sprint_ending_before_it_starts_is_refused(project):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        sprint_create(project=project, actor=None, start_date=today, end_date=today - timedelta(days=1))
    assert "end_date" in exc.value.message_dict
    assert not Sprint.objects.exists()


def test_planning_adds_and_removes_items(project, planned):
    a, b = items(project, 2)
    sprint_add_items(sprint=planned, items=[a, b], actor=None)
    sprint_remove_items(sprint=planned, items=[a], actor=None)
    assert list(BacklogItem.objects.filter(sprint=planned)) == [b]


def test_items_of_another_project_cannot_be_planned(project, planned, workspace):
    foreign = item_create(project=f.ProjectFactory(workspace=workspace, key="DESK"), actor=None, title="Other")
    with pytest.raises(ValidationError):
        sprint_add_items(sprint=planned, items=[foreign], actor=None)
    assert foreign.sprint_id is None


def test_starting_freezes_the_commitment(project, planned):
    a, b = items(project, 2, estimate=5)
    sprint_add_items(sprint=planned, items=[a, b], actor=None)
    started = sprint_start(sprint=planned, actor=None)
    assert started.state == SprintState.ACTIVE and started.started_at
    assert started.commitment["points"] == 10
    assert [c["key"] for c in started.commitment["items"]] == ["SHOP-1", "SHOP-2"]


def test_a_second_active_sprint_is_refused(project, planned):
    sprint_start(sprint=planned, actor=None)
    other = sprint_create(project=project, actor=None)
    with pytest.raises(ValidationError) as exc:
        sprint_start(sprint=other, actor=None)
    assert "still active" in exc.value.message_dict["state"][0]
    other.refresh_from_db()
    assert other.state == SprintState.PLANNED


def test_the_database_allows_one_active_sprint_per_project(project):
    f.SprintFactory(project=project, number=1, state=SprintState.ACTIVE)
    with pytest.raises(IntegrityError):
        f.SprintFactory(project=project, number=2, state=SprintState.ACTIVE)


def test_closing_returns_unfinished_items_to_the_backlog_and_stamps_done(project, planned):
    done, open_ = items(project, 2)
    sprint_add_items(sprint=planned, items=[done, open_], actor=None)
    sprint = sprint_start(sprint=planned, actor=None)
    item_update(item=done, actor=None, status="done")
    closed = sprint_close(sprint=sprint, actor=None)
    open_.refresh_from_db()
    done.refresh_from_db()
    assert closed.state == SprintState.CLOSED and closed.completed_points == 3
    assert open_.sprint is None and done.sprint == closed and done.done_at is not None
    assert [c["key"] for c in closed.review_snapshot["carry_over"]] == ["SHOP-2"]


def test_closing_can_carry_unfinished_items_into_a_named_next_sprint(project, planned):
    (open_,) = items(project, 1)
    sprint_add_items(sprint=planned, items=[open_], actor=None)
    sprint = sprint_start(sprint=planned, actor=None)
    following = sprint_create(project=project, actor=None)
    sprint_close(sprint=sprint, actor=None, carry_over_to=following)
    open_.refresh_from_db()
    assert open_.sprint == following


def test_carrying_over_into_another_projects_sprint_is_refused(project, planned, workspace):
    sprint = sprint_start(sprint=planned, actor=None)
    foreign = sprint_create(project=f.ProjectFactory(workspace=workspace, key="DESK"), actor=None)
    with pytest.raises(ValidationError):
        sprint_close(sprint=sprint, actor=None, carry_over_to=foreign)
    sprint.refresh_from_db()
    assert sprint.state == SprintState.ACTIVE


def test_closing_marks_feedback_addressed_when_all_its_items_are_done(project, planned, workspace):
    fb_done, fb_partial = f.FeedbackFactory(workspace=workspace), f.FeedbackFactory(workspace=workspace)
    a, b = items(project, 2)
    feedback_link(feedback=fb_done, item=a, actor=None)
    feedback_link(feedback=fb_partial, item=a, actor=None)
    feedback_link(feedback=fb_partial, item=b, actor=None)
    sprint_add_items(sprint=planned, items=[a, b], actor=None)
    sprint = sprint_start(sprint=planned, actor=None)
    item_update(item=a, actor=None, status="done")
    sprint_close(sprint=sprint, actor=None)
    fb_done.refresh_from_db()
    fb_partial.refresh_from_db()
    assert fb_done.loop_state == LoopState.ADDRESSED
    assert fb_partial.loop_state != LoopState.ADDRESSED


def test_only_an_active_sprint_can_be_closed(planned):
    with pytest.raises(ValidationError):
        sprint_close(sprint=planned, actor=None)


def test_a_closed_sprint_cannot_be_edited(project, planned):
    sprint = sprint_close(sprint=sprint_start(sprint=planned, actor=None), actor=None)
    with pytest.raises(ValidationError):
        sprint_update(sprint=sprint, actor=None, goal="rewrite history")
