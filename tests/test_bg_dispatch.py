"""The dispatch outbox: work is written with the change and survives a broker outage."""

import pytest

from config.celery import app as celery_app
from tests.bg_helpers import broker
from tracker.models import Change, ConsumerPosition, Feedback, Suggestion, TaskRecord, TaskState, TermPosting
from tracker.services import dispatch as d
from tracker.services.feedback import feedback_create

DEAD_BROKER = "redis://127.0.0.1:1/3"


def test_outbox_work_is_recorded_in_the_same_transaction_and_sent_after_commit(workspace):
    record = d.dispatch("tracker.sprint_notify_task", "6f1c2d3e-4b5a-4c6d-8e7f-901234567890")
    assert record.state == TaskState.PENDING
    assert record.args == ["6f1c2d3e-4b5a-4c6d-8e7f-901234567890"]


def test_feedback_creation_records_its_change_for_the_consumers_in_the_same_transaction(workspace):
    feedback = feedback_create(workspace=workspace, actor=None, body="Search is broken")
    change = Change.objects.get(object_id=feedback.pk)
    assert (change.kind, change.op) == ("feedback", "create")
    assert not TermPosting.objects.filter(feedback=feedback).exists()  # the consumer runs after commit


def test_in_process_mode_runs_the_consumers_after_commit(workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        feedback = feedback_create(workspace=workspace, actor=None, body="Search is broken when offline")
    assert TermPosting.objects.filter(feedback=feedback).exists()
    assert ConsumerPosition.objects.get(consumer="similarity", workspace=workspace).change_id > 0


def test_a_claimed_record_runs_its_effect_once(workspace):
    record = TaskRecord.objects.create(task="x", args=[])
    calls = []
    assert d.run_claimed(record.pk, lambda: calls.append(1) or "ran") == "ran"
    assert d.run_claimed(record.pk, lambda: calls.append(1) or "ran") is None
    assert calls == [1]


def test_an_effect_that_fails_releases_its_claim(workspace):
    record = TaskRecord.objects.create(task="x", args=[])

    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        d.run_claimed(record.pk, boom)
    record.refresh_from_db()
    assert record.state == TaskState.PENDING


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_request_succeeds_and_the_work_stays_pending(
    workspace, project, django_capture_on_commit_callbacks
):
    with broker(celery_app, DEAD_BROKER):
        with django_capture_on_commit_callbacks(execute=True):
            feedback = feedback_create(workspace=workspace, actor=None, body="The app crashes on start")
            record = d.dispatch("tracker.sprint_notify_task", str(project.pk))
        record.refresh_from_db()
        assert Feedback.objects.filter(pk=feedback.pk).exists()
        assert record.state == TaskState.PENDING
        # The feed's wake found the broker down; the record's send, a moment later in the
        # same process, was not even tried (the broker rests), so the request did not wait.
        assert d.broker_resting()
        assert record.send_attempts == 0
        assert not TermPosting.objects.filter(feedback=feedback).exists()  # the consumers were not reached
        # The sweeper cannot send either, and says so by sending nothing.
        assert d.dispatch_sweep(min_age=0) <= 1  # at most: it saw the workspace's feed waiting
    assert TaskRecord.objects.get().state == TaskState.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_tries_the_broker_even_while_requests_leave_it_resting(workspace, project):
    with broker(celery_app, DEAD_BROKER):
        d.broker_failed()
        record = d.dispatch("tracker.sprint_notify_task", str(project.pk))
        assert TaskRecord.objects.get(pk=record.pk).send_attempts == 0
        d.dispatch_sweep(min_age=0)
        record.refresh_from_db()
        assert (record.state, record.send_attempts) == (TaskState.PENDING, 1)
        assert "send failed" in record.last_error


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_runs_the_waiting_consumers_once_a_broker_is_back(workspace):
    earlier = feedback_create(workspace=workspace, actor=None, body="The app crashes on start every single time")
    with broker(celery_app, DEAD_BROKER):
        feedback = feedback_create(workspace=workspace, actor=None, body="The app crashes on start")
    assert not Suggestion.objects.filter(feedback=feedback).exists()
    # Back to a working (here: in-process) broker: the sweep runs the consumers.
    assert d.dispatch_sweep(min_age=0) == 1
    assert Suggestion.objects.filter(feedback=feedback, similar_feedback=earlier).exists()


def test_the_sweep_and_reindex_commands_run(workspace, project):
    from io import StringIO

    from django.core.management import call_command

    from tracker.models import TermStat
    from tracker.services.backlog import item_create

    item_create(project=project, actor=None, title="Dark mode")
    Feedback.objects.create(workspace=workspace, body="Please add dark mode", received_at="2024-01-01T00:00Z")
    out = StringIO()
    call_command("similarity_reindex", workspace=workspace.slug, stdout=out)
    assert "indexed 2 documents" in out.getvalue()
    assert TermStat.objects.get(workspace=workspace, term="").df == 2
    call_command("dispatch_sweep", min_age=0, stdout=out)
    assert "Sent 1" in out.getvalue()  # the workspace whose webhooks consumer has not seen the item yet
