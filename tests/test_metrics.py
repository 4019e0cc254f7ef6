from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f
from tracker.models import Feedback, Segment, SprintState, Tier
from tracker.services.backlog import item_create, item_update
from tracker.services.feedback import feedback_link
from tracker.services.metrics import (
    item_impacts,
    loop_times,
    score_summary,
    segment_mix,
    value_factor,
    velocity,
)
from tracker.services.sprints import sprint_add_items, sprint_close, sprint_create, sprint_start


def link(workspace, item, customer=None, **scores):
    fb = f.FeedbackFactory(workspace=workspace, customer=customer or f.CustomerFactory(workspace=workspace), **scores)
    feedback_link(feedback=fb, item=item, actor=None)
    return fb


def test_impact_counts_distinct_customers_and_repeat_asks(workspace, project):
    item = item_create(project=project, actor=None, title="X", estimate=2)
    ann = f.CustomerFactory(workspace=workspace, annual_value=Decimal("0"))
    link(workspace, item, ann)
    link(workspace, item, ann)
    link(workspace, item)
    impact = item_impacts([item.pk])[item.pk]
    assert (impact.reach, impact.demand) == (2, 3)
    assert impact.repeat_asks == 0.25


def test_detractors_weigh_double(workspace, project):
    calm, angry = (item_create(project=project, actor=None, title=t) for t in ("calm", "angry"))
    customer_a = f.CustomerFactory(workspace=workspace, annual_value=0)
    customer_b = f.CustomerFactory(workspace=workspace, annual_value=0)
    link(workspace, calm, customer_a, nps=9)
    link(workspace, angry, customer_b, nps=2)
    impacts = item_impacts([calm.pk, angry.pk])
    assert impacts[angry.pk].score == pytest.approx(2 * impacts[calm.pk].score)
    assert impacts[angry.pk].detractors == 1


def test_segment_and_tier_weights_come_from_the_workspace(workspace, project):
    workspace.segment_weights = {**workspace.segment_weights, Segment.MANAGEMENT: 3.0}
    workspace.save()
    item = item_create(project=project, actor=None, title="X")
    boss = f.CustomerFactory(workspace=workspace, segment=Segment.MANAGEMENT, tier=Tier.STANDARD, annual_value=0)
    link(workspace, item, boss)
    assert item_impacts([item.pk], workspace=workspace)[item.pk].score == pytest.approx(3.0)


def test_value_factor_grows_by_one_per_tenfold():
    assert value_factor(0) == 1
    assert value_factor(9000) == pytest.approx(2.0)


def test_rice_divides_by_the_estimate(workspace, project):
    small = item_create(project=project, actor=None, title="small", estimate=1)
    big = item_create(project=project, actor=None, title="big", estimate=8)
    customer = f.CustomerFactory(workspace=workspace)
    link(workspace, small, customer)
    link(workspace, big, customer)
    impacts = item_impacts([small.pk, big.pk])
    assert impacts[small.pk].rice == pytest.approx(8 * impacts[big.pk].rice, rel=0.01)


def test_impact_of_many_items_runs_a_fixed_number_of_queries(workspace, project, django_assert_max_num_queries):
    items = [item_create(project=project, actor=None, title=f"I{i}") for i in range(30)]
    for item in items:
        for _ in range(3):
            link(workspace, item)
    # 1: all links with feedback and customer; 2: items with estimates and workspace; 3: workspace settings
    with django_assert_max_num_queries(3):
        impacts = item_impacts([i.pk for i in items])
    assert all(i.demand == 3 for i in impacts.values())


def test_an_items_points_are_shared_across_its_customers_segments(workspace, project):
    item = item_create(project=project, actor=None, title="X", estimate=4)
    link(workspace, item, f.CustomerFactory(workspace=workspace, segment=Segment.END_CUSTOMER))
    link(workspace, item, f.CustomerFactory(workspace=workspace, segment=Segment.EMPLOYEE))
    lone = item_create(project=project, actor=None, title="No evidence", estimate=2)
    mix = segment_mix([item.pk, lone.pk])
    assert mix[Segment.END_CUSTOMER] == 2 and mix[Segment.EMPLOYEE] == 2 and mix["unattributed"] == 2


def _closed_sprint(project, points):
    sprint = sprint_create(project=project, actor=None)
    item = item_create(project=project, actor=None, title="done", estimate=points)
    sprint_add_items(sprint=sprint, items=[item], actor=None)
    sprint = sprint_start(sprint=sprint, actor=None)
    item_update(item=item, actor=None, status="done")
    return sprint_close(sprint=sprint, actor=None)


def test_velocity_is_the_mean_of_the_last_three_closed_sprints(project):
    assert velocity(project) is None
    for points in (100, 10, 20, 30):
        _closed_sprint(project, points)
    assert velocity(project) == 20


def test_nps_csat_and_ces_aggregates(workspace):
    for nps in (10, 9, 7, 3):
        f.FeedbackFactory(workspace=workspace, nps=nps)
    for csat in (5, 4, 1):
        f.FeedbackFactory(workspace=workspace, csat=csat, ces=4)
    summary = score_summary(Feedback.objects.filter(workspace=workspace))
    assert summary["nps"] == 25.0 and summary["csat"] == pytest.approx(66.7) and summary["ces"] == 4.0


def test_loop_time_is_measured_from_received_to_notified(workspace):
    now = timezone.now()
    f.FeedbackFactory(workspace=workspace, received_at=now - timedelta(days=10), notified_at=now)
    f.FeedbackFactory(workspace=workspace, received_at=now - timedelta(days=4), notified_at=now)
    f.FeedbackFactory(workspace=workspace)
    times = loop_times(workspace)
    assert times["count"] == 2 and times["median_days"] == 7.0


def test_burndown_replays_history(project):
    from tracker.services.metrics import burndown

    sprint = sprint_create(project=project, actor=None, start_date=timezone.localdate())
    a = item_create(project=project, actor=None, title="a", estimate=5)
    b = item_create(project=project, actor=None, title="b", estimate=3)
    sprint_add_items(sprint=sprint, items=[a, b], actor=None)
    sprint = sprint_start(sprint=sprint, actor=None)
    item_update(item=a, actor=None, status="done")
    series = burndown(sprint)
    assert series["days"] == [timezone.localdate().isoformat()]
    assert series["remaining"] == [3.0] and series["ideal"][0] == 8.0
    assert sprint.state == SprintState.ACTIVE
