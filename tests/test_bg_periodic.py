"""Periodic jobs: burndown points, weekly score roll-ups, reminders, idempotency cleanup."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from tests import factories as f
from tracker.models import BurndownPoint, ItemStatus, MetricRollup, ProjectRole, Segment, TaskRecord, TaskState
from tracker.services import periodic
from tracker.services.backlog import item_create, item_update
from tracker.services.dispatch import dispatch_cleanup
from tracker.services.feedback import feedback_link
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_start


def test_a_daily_burndown_point_is_stored_once_per_day(project):
    sprint = sprint_create(project=project, actor=None)
    a = item_create(project=project, actor=None, title="A", estimate=3)
    b = item_create(project=project, actor=None, title="B", estimate=5)
    sprint_add_items(sprint=sprint, items=[a, b], actor=None)
    sprint_start(sprint=sprint, actor=None)
    assert periodic.burndown_snapshot_all() == 1
    item_update(item=a, actor=None, status=ItemStatus.DONE)
    periodic.burndown_snapshot_all()
    point = BurndownPoint.objects.get()
    assert (point.scope, point.completed, point.remaining) == (8.0, 3.0, 5.0)
    assert periodic.burndown_points(sprint)[-1]["remaining"] == 5.0


def test_scores_roll_up_per_project_segment_and_week(workspace, project):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    this_week = timezone.now() - timedelta(days=timezone.localdate().weekday())
    boss = f.CustomerFactory(workspace=workspace, segment=Segment.MANAGEMENT)
    item = item_create(project=project, actor=None, title="Faster reports")
    linked = [
        f.FeedbackFactory(workspace=workspace, customer=boss, nps=10, received_at=this_week),
        f.FeedbackFactory(workspace=workspace, customer=boss, nps=2, csat=5, received_at=this_week),
    ]
    for fb in linked:
        feedback_link(feedback=fb, item=item, actor=None)
    f.FeedbackFactory(workspace=workspace, customer=None, ces=6, received_at=this_week)
    assert periodic.metrics_rollup(workspace=workspace) == 2
    boss_week = MetricRollup.objects.get(project=project, segment=Segment.MANAGEMENT)
    assert (boss_week.week, boss_week.feedback_count, boss_week.nps, boss_week.csat) == (monday, 2, 0.0, 100.0)
    loose = MetricRollup.objects.get(project=None)
    assert (loose.segment, loose.ces, loose.ces_responses) == ("unattributed", 6.0, 1)
    assert periodic.metrics_rollup(workspace=workspace) == 2  # recomputed, not added
    assert MetricRollup.objects.count() == 2


def test_product_owners_are_reminded_of_feedback_waiting_for_triage(workspace, project, po, settings):
    settings.UNTRIAGED_REMINDER_DAYS = 7
    f.FeedbackFactory(workspace=workspace, received_at=timezone.now() - timedelta(days=10))
    f.FeedbackFactory(workspace=workspace, received_at=timezone.now() - timedelta(days=1))
    f.ProjectMembershipFactory(project=project, role=ProjectRole.DEVELOPER)
    assert periodic.untriaged_reminders_send() == 1
    assert mail.outbox[0].to == [po.email]
    assert mail.outbox[0].subject.startswith("1 feedback waiting for triage")


def test_no_reminder_when_nothing_waits(workspace, po):
    assert periodic.untriaged_reminders_send() == 0
    assert mail.outbox == []


def test_idempotency_cleanup_tolerates_a_missing_model(db, caplog):
    from django.apps import apps

    try:
        model = apps.get_model("tracker", "IdempotencyKey")
    except LookupError:
        model = None
    if model is None:
        assert periodic.idempotency_keys_cleanup() == 0
        assert "No IdempotencyKey model" in caplog.text
    else:  # once the API's model exists, old keys go and fresh ones stay
        assert periodic.idempotency_keys_cleanup() >= 0


def test_finished_dispatch_records_are_forgotten_after_a_while(db):
    old = TaskRecord.objects.create(task="x", state=TaskState.DONE, done_at=timezone.now() - timedelta(days=30))
    fresh = TaskRecord.objects.create(task="x", state=TaskState.DONE, done_at=timezone.now())
    pending = TaskRecord.objects.create(task="x")
    assert dispatch_cleanup(keep_days=7) == 1
    assert set(TaskRecord.objects.values_list("pk", flat=True)) == {fresh.pk, pending.pk}
    assert old.pk not in set(TaskRecord.objects.values_list("pk", flat=True))
