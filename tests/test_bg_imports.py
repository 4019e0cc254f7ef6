"""Imports of feedback and backlogs: streaming, batched, upserting, with a per-row report."""

import io
import json

import pytest

from tests import factories as f
from tracker.models import (
    BacklogItem,
    Customer,
    Feedback,
    History,
    ImportChunk,
    ImportJob,
    ImportStatus,
    ItemKind,
    ItemStatus,
    TaskRecord,
)
from tracker.services.errors import ValidationError
from tracker.services.import_feedback import clean_feedback
from tracker.services.imports import import_run, import_start, import_status

FEEDBACK_CSV = """\
Review,E-mail,Customer,NPS,CSAT,Date,Channel,ID,Title
"Search is broken, please fix",ann@example.com,Ann,3,,2024-05-01,support,r1,Search
Love the dark mode,bob@example.com,Bob,10,5,2024-05-02T10:00:00Z,,r2,
,cid@example.com,Cid,5,,2024-05-03,,r3,
Slow to load,ANN@example.com,Ann,11,,2024-05-04,,r4,
Crashes when I rotate,,,,2,not a date,,r5,
Crashes when I rotate the phone,dee@example.com,Dee,,2,2024-05-05,,r6,
"""


def start(workspace, data, *, kind="feedback", filename="f.csv", project=None, **kw):
    return import_start(workspace=workspace, actor=None, kind=kind, filename=filename, data=data, project=project, **kw)


def run(job):
    return import_run(job.pk)


def test_a_csv_of_feedback_is_imported_with_a_report_of_each_bad_row(workspace):
    job = run(start(workspace, FEEDBACK_CSV.encode()))
    assert job.status == ImportStatus.DONE
    assert (job.rows_total, job.rows_done, job.created, job.updated, job.error_count) == (6, 6, 3, 0, 3)
    assert [(e["line"], e["reason"]) for e in job.errors] == [
        (4, "The text is empty"),
        (5, "NPS must be a whole number from 0 to 10, not 11"),
        (6, "Unreadable date 'not a date'"),
    ]
    search = Feedback.objects.get(external_id="r1")
    assert (search.body, search.title, search.nps, search.channel, search.source) == (
        "Search is broken, please fix",
        "Search",
        3,
        "support",
        "import",
    )
    assert search.received_at.isoformat().startswith("2024-05-01")
    assert Feedback.objects.get(external_id="r2").channel == "import"  # empty channel
    assert set(Customer.objects.values_list("email", flat=True)) == {
        "ann@example.com",
        "bob@example.com",
        "dee@example.com",
    }
    assert History.objects.filter(feedback__isnull=False, action="created").count() == 3
    assert not ImportChunk.objects.exists()  # the stored file is dropped when done


def test_importing_again_updates_instead_of_doubling(workspace):
    run(start(workspace, FEEDBACK_CSV.encode()))
    changed = FEEDBACK_CSV.replace("Love the dark mode", "Love the dark mode a lot")
    job = run(start(workspace, changed.encode()))
    assert (job.created, job.updated, job.skipped) == (0, 1, 2)
    assert Feedback.objects.count() == 3
    assert Feedback.objects.get(external_id="r2").body == "Love the dark mode a lot"


def test_existing_customers_are_matched_by_email(workspace):
    ann = f.CustomerFactory(workspace=workspace, email="ann@example.com")
    run(start(workspace, FEEDBACK_CSV.encode()))
    assert Feedback.objects.get(external_id="r1").customer == ann


def test_json_arrays_and_json_lines_are_read(workspace):
    rows = [{"text": "Search please", "email": "a@example.com", "score": 9, "id": 1}, {"comment": "", "id": 2}]
    job = run(start(workspace, json.dumps(rows).encode(), filename="f.json"))
    assert (job.format, job.created, job.error_count) == ("json", 1, 1)
    lines = "\n".join(json.dumps({"body": f"Row {i}", "id": f"l{i}"}) for i in range(5)) + "\n{broken\n"
    job = run(start(workspace, lines.encode(), filename="f.jsonl"))
    assert (job.format, job.created, job.error_count) == ("jsonl", 5, 1)
    assert job.errors[0]["line"] == 6


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV or JSON"),
        (b"colour,size\nred,3\n", "No usable columns"),
        (b'{"items": [1, 2]', "an array of objects, JSON Lines"),
    ],
)
def test_unusable_files_are_refused_and_nothing_is_written(workspace, data, message):
    with pytest.raises(ValidationError) as exc:
        start(workspace, data)
    assert message in exc.value.message_dict["file"][0]
    assert not ImportJob.objects.exists() and not ImportChunk.objects.exists()
    assert not TaskRecord.objects.exists()


def test_a_file_over_the_size_limit_is_refused(workspace, settings):
    settings.IMPORT_MAX_BYTES = 3 * 1024 * 1024
    big = io.BytesIO(b"text\n" + b"Some feedback text\n" * 200_000)
    with pytest.raises(ValidationError) as exc:
        start(workspace, big)
    assert "larger than the limit" in exc.value.message_dict["file"][0]
    assert not ImportJob.objects.exists() and not ImportChunk.objects.exists()


def _numbered_feedback(rows):
    return ("text,id\n" + "".join(f"Feedback {i},x{i}\n" for i in range(rows))).encode()


def _first_run_died_after(job, rows, *, total):
    """Leave the checkpoint a first run leaves when it dies after committing `rows` of the
    file's `total` rows."""
    from tracker.services import imports

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, rows_total=total)
    job.refresh_from_db()
    batch = imports.Batch()
    batch.rows = [(i + 2, clean_feedback({"text": f"Feedback {i}", "id": f"x{i}"}, _get)) for i in range(rows)]
    batch.seen = rows
    assert imports._commit_batch(job, batch, None)


def test_progress_is_committed_batch_by_batch_and_a_rerun_resumes(workspace, settings):
    settings.IMPORT_BATCH_SIZE = 10
    job = start(workspace, _numbered_feedback(35))
    _first_run_died_after(job, 20, total=35)  # two batches
    done = import_run(job.pk)
    assert (done.rows_done, done.created, done.updated) == (35, 35, 0)
    assert Feedback.objects.count() == 35
    status = import_status(done)
    assert status["progress"] == 1.0 and status["status"] == "done"


def _get(record, field):
    return {"body": record.get("text"), "external_id": record.get("id")}.get(field)


JIRA_CSV = """\
Summary,Issue key,Issue id,Issue Type,Status,Story Points,Sprint,Created,Description
Checkout fails on Safari,SHOP-101,10001,Bug,Done,3,Sprint 4,12/Mar/24 10:15 AM,Payment button does nothing
Faster search,SHOP-102,10002,Story,In Progress,5,,2024-03-13 09:00,
Bad points,SHOP-103,10003,Task,To Do,lots,,,
,SHOP-104,10004,Task,To Do,1,,,
"""


def test_a_jira_export_becomes_backlog_items_numbered_and_ranked(workspace, project):
    job = run(start(workspace, JIRA_CSV.encode(), kind="backlog", project=project))
    assert (job.format, job.source, job.created, job.error_count) == ("jira_csv", "jira", 2, 2)
    items = list(BacklogItem.objects.filter(project=project).order_by("rank"))
    assert [(i.number, i.external_id, i.kind, i.status, float(i.estimate)) for i in items] == [
        (1, "SHOP-101", ItemKind.BUG, ItemStatus.DONE, 3.0),
        (2, "SHOP-102", ItemKind.STORY, ItemStatus.IN_PROGRESS, 5.0),
    ]
    project.refresh_from_db()
    assert project.next_item_number == 3
    again = run(
        start(workspace, JIRA_CSV.replace("Faster search", "Faster search!").encode(), kind="backlog", project=project)
    )
    assert (again.created, again.updated, again.skipped) == (0, 1, 1)
    assert BacklogItem.objects.filter(project=project).count() == 2


def test_github_issues_json_skips_pull_requests(workspace, project):
    issues = [
        {
            "number": 7,
            "title": "Crash on start",
            "body": "It crashes",
            "state": "open",
            "labels": [{"name": "bug"}],
            "html_url": "https://github.com/o/r/issues/7",
        },
        {
            "number": 8,
            "title": "Add search",
            "body": None,
            "state": "closed",
            "state_reason": "completed",
            "labels": [],
            "html_url": "https://github.com/o/r/issues/8",
        },
        {
            "number": 9,
            "title": "Old idea",
            "state": "closed",
            "state_reason": "not_planned",
            "labels": [],
            "html_url": "https://github.com/o/r/issues/9",
        },
        {
            "number": 10,
            "title": "Fix it",
            "state": "open",
            "pull_request": {"url": "x"},
            "html_url": "https://github.com/o/r/pull/10",
        },
    ]
    job = run(start(workspace, json.dumps(issues).encode(), kind="backlog", project=project, filename="issues.json"))
    assert (job.format, job.source, job.created, job.skipped) == ("github_json", "github", 3, 1)
    got = {i.external_id: (i.kind, i.status) for i in BacklogItem.objects.filter(project=project)}
    assert got == {
        "7": (ItemKind.BUG, ItemStatus.BACKLOG),
        "8": (ItemKind.STORY, ItemStatus.DONE),
        "9": (ItemKind.STORY, ItemStatus.WONT_DO),
    }


def test_a_backlog_import_needs_a_project_of_the_workspace(workspace, other_workspace):
    with pytest.raises(ValidationError):
        start(workspace, JIRA_CSV.encode(), kind="backlog")
    foreign = f.ProjectFactory(workspace=other_workspace)
    with pytest.raises(ValidationError):
        start(workspace, JIRA_CSV.encode(), kind="backlog", project=foreign)


def test_the_real_app_reviews_import_as_feedback(workspace, data_dir, django_capture_on_commit_callbacks):
    path = data_dir / "app-reviews-labelled.jsonl"
    with path.open("rb") as upload, django_capture_on_commit_callbacks(execute=True):
        job = start(workspace, upload, filename=path.name, source="app-reviews")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.rows_total == 3979
    assert job.created + job.error_count + job.skipped == 3979
    assert job.created > 3900
    labelled = sum(1 for line in path.open() if json.loads(line)["label"])
    # The labelled problem categories became tags; reviewId (not the numeric id) is the key.
    assert Feedback.objects.exclude(tags=[]).count() == labelled
    review = json.loads(path.open().readline())
    assert Feedback.objects.get(source="app-reviews", external_id=review["reviewId"]).body == review["text"].strip()
    assert Feedback.objects.filter(source="app-reviews").exclude(external_id="").count() == job.created


def test_the_real_mesos_issues_import_as_a_backlog(workspace, project, data_dir, django_capture_on_commit_callbacks):
    path = data_dir / "jira-mesos-issues.csv"
    with path.open("rb") as upload, django_capture_on_commit_callbacks(execute=True):
        job = start(workspace, upload, kind="backlog", project=project, filename=path.name, source="jira")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.rows_total == 1680
    assert job.created == 1680 and job.error_count == 0
    item = BacklogItem.objects.get(project=project, external_id="MESOS-336")
    assert item.title == "Mesos slave should cache executors" and float(item.estimate) == 5
    assert list(
        BacklogItem.objects.filter(project=project).order_by("number").values_list("number", flat=True)[:3]
    ) == [1, 2, 3]


def test_customers_are_matched_by_external_id_in_bulk(workspace, django_assert_max_num_queries):
    data = "text,customer_id,customer,id\n" + "".join(f"Ask {i},acct-{i % 3},Account {i % 3},a{i}\n" for i in range(30))
    job = start(workspace, data.encode(), source="crm")
    # The batch's queries do not grow with its rows (customers, feedback, history, the
    # change feed; the index is the feed consumer's, after commit), nor do the first pass's
    # (the file's chunks, one count of the rows that exist already per 2,000).
    with django_assert_max_num_queries(36):
        job = run(job)
    assert job.created == 30
    assert Customer.objects.filter(workspace=workspace, source="crm").count() == 3
    run(start(workspace, data.encode(), source="crm"))
    assert Customer.objects.filter(workspace=workspace).count() == 3
    assert Feedback.objects.filter(customer__external_id="acct-1").count() == 10


@pytest.fixture
def statistics_refreshed_at(settings, monkeypatch):
    """Batches of 10, statistics first refreshed at 20 rows: the rows done at each refresh."""
    from tracker.services import imports

    settings.IMPORT_BATCH_SIZE = 10
    monkeypatch.setattr(imports, "ANALYZE_FROM_ROWS", 20)
    refreshed_at = []
    monkeypatch.setattr(imports, "_refresh_lookup_statistics", lambda job: refreshed_at.append(job.rows_done))
    return refreshed_at


def test_a_growing_import_refreshes_the_lookup_statistics_at_each_doubling(workspace, statistics_refreshed_at):
    run(start(workspace, _numbered_feedback(170)))
    assert statistics_refreshed_at == [20, 40, 80, 160]


def test_a_resumed_import_refreshes_the_statistics_once_it_has_doubled_again(workspace, statistics_refreshed_at):
    job = start(workspace, _numbered_feedback(100))
    _first_run_died_after(job, 30, total=100)
    import_run(job.pk)
    assert statistics_refreshed_at == [60]


def test_without_a_broker_the_upload_is_answered_before_the_import_runs_in_a_thread(
    workspace, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from tracker.services import imports

    settings.IMPORT_THREAD_WHEN_EAGER = True
    started = []

    class FakeThread:
        def __init__(self, target, name, daemon):
            started.append(target)

        def start(self):
            pass

    monkeypatch.setattr(imports.threading, "Thread", FakeThread)
    monkeypatch.setattr(imports.connection, "close", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        job = start(workspace, _numbered_feedback(5))
    job.refresh_from_db()
    # Answered: the job is queued with its estimated length, the thread not yet run.
    assert (job.status, job.rows_total, Feedback.objects.count(), len(started)) == ("queued", 5, 0, 1)
    assert not TaskRecord.objects.filter(task="tracker.import_run_task").exists()
    started[0]()
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", 5)


def test_a_thread_import_whose_process_died_resumes_when_its_status_is_read(workspace, settings, monkeypatch):
    from tracker.services import imports

    job = start(workspace, _numbered_feedback(3))  # queued; its thread (inline here) never ran
    settings.IMPORT_THREAD_WHEN_EAGER = True
    started = []
    monkeypatch.setattr(imports, "_start_thread", started.append)
    import_status(job)
    assert started == [job.pk]


def test_a_thread_import_retries_when_the_database_is_busy(workspace, settings, monkeypatch):
    from django.db import OperationalError

    from tracker.services import imports

    job = start(workspace, _numbered_feedback(3))
    calls = []

    def flaky(job_id):
        calls.append(job_id)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return import_run(job_id)

    class InlineThread:
        def __init__(self, target, name, daemon):
            self.target = target

        def start(self):
            self.target()

    monkeypatch.setattr(imports, "import_run", flaky)
    monkeypatch.setattr(imports.threading, "Thread", InlineThread)
    monkeypatch.setattr(imports.time, "sleep", lambda s: None)
    monkeypatch.setattr(imports.connection, "close", lambda: None)
    imports._start_thread(job.pk)
    job.refresh_from_db()
    assert len(calls) == 2 and job.status == "done" and job.created == 3


def test_previews_nobody_started_are_deleted_after_a_day(workspace):
    from datetime import timedelta

    from django.utils import timezone

    from tracker.services.imports import import_previews_cleanup

    old = start(workspace, _numbered_feedback(2), preview=True)
    fresh = start(workspace, _numbered_feedback(2), preview=True)
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert import_previews_cleanup() == 1
    assert list(ImportJob.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not ImportChunk.objects.filter(job_id=old.pk).exists()


def test_a_large_file_is_previewed_in_the_background_and_started_once_read(
    workspace, settings, django_capture_on_commit_callbacks
):
    from tracker.services.imports import import_confirm

    settings.IMPORT_PREVIEW_INLINE_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(workspace, _numbered_feedback(4), preview=True)
    report = import_status(job)
    assert (report["status"], report["reading"], report["preview"]) == ("preview", True, None)
    with pytest.raises(ValidationError):
        import_confirm(job)  # not read yet
    for callback in callbacks:
        callback()  # the worker reads the file
    report = import_status(job)
    assert report["reading"] is False and report["preview"]["rows"] == 4
    assert not Feedback.objects.exists()
    import_confirm(job)
    assert run(job).created == 4
