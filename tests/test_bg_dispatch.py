"""The dispatch outbox: work is written with the change and survives a broker outage."""

import pytest

from config.celery import app as celery_app
from tests.bg_helpers import broker
from tracker.models import Feedback, Suggestion, TaskRecord, TaskState
from tracker.services import dispatch as d
from tracker.services.feedback import feedback_create

DEAD_BROKER = "redis://127.0.0.1:1/3"


def test_feedback_creation_records_its_suggestion_work_in_the_same_transaction(workspace):
    feedback = feedback_create(workspace=workspace, actor=None, body="Search is broken")
    record = TaskRecord.objects.get()
    assert record.task == "tracker.feedback_suggest_task"
    assert record.args == [str(feedback.pk)]
    assert record.state == TaskState.PENDING


def test_in_process_mode_runs_the_task_after_commit_and_marks_it_done(workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        feedback_create(workspace=workspace, actor=None, body="Search is broken when offline")
    assert TaskRecord.objects.get().state == TaskState.DONE


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
def test_with_the_broker_down_the_request_succeeds_and_the_work_stays_pending(workspace):
    with broker(celery_app, DEAD_BROKER):
        feedback = feedback_create(workspace=workspace, actor=None, body="The app crashes on start")
        record = TaskRecord.objects.get()
        assert Feedback.objects.filter(pk=feedback.pk).exists()
        assert record.state == TaskState.PENDING
        assert record.send_attempts == 1
        assert "send failed" in record.last_error
        # The sweeper cannot send either, and says so by sending nothing.
        assert d.dispatch_sweep(min_age=0) == 0
    assert TaskRecord.objects.get().state == TaskState.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_sends_pending_work_once_a_broker_is_back(workspace):
    earlier = feedback_create(workspace=workspace, actor=None, body="The app crashes on start every single time")
    with broker(celery_app, DEAD_BROKER):
        feedback = feedback_create(workspace=workspace, actor=None, body="The app crashes on start")
    record = TaskRecord.objects.get(args=[str(feedback.pk)])
    assert record.state == TaskState.PENDING
    # Back to a working (here: in-process) broker: the sweep runs the suggestion task.
    assert d.dispatch_sweep(min_age=0) == 1
    record.refresh_from_db()
    assert record.state == TaskState.DONE
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
    assert "Sent 1" in out.getvalue()  # the item's index work, left pending by the test transaction
