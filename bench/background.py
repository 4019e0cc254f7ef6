"""Background-work scenarios of `make bench`: feedback imports and similarity suggestions on
real Celery worker processes (started here, against Redis database 11), with one worker and
with two consuming the same queues.

Workers use the solo pool, so the process that runs a task is the process whose peak RSS
(`VmHWM`) is reported; a fresh worker per import makes that peak the import's own.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORDS = (
    "search checkout slow crash login export excel dark mode offline sync upload photo payment invoice report "
    "dashboard filter notification email password reset mobile tablet screen button loading error timeout"
).split()


def write_csv(path: Path, rows: int, seed: int = 3) -> Path:
    """A feedback export: ids, text, customer e-mail and name (20,000 customers), scores, dates."""
    if path.exists() and path.stat().st_size > 0 and path.with_suffix(".done").exists():
        return path
    rng = random.Random(seed)
    with path.open("w") as handle:
        handle.write("id,text,email,customer,nps,csat,date,channel\n")
        for i in range(rows):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
            c = rng.randint(1, 20000)
            nps = rng.randint(0, 10) if rng.random() < 0.5 else ""
            day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            handle.write(f'r{i},"The {words}.",c{c}@example.com,Customer {c},{nps},,{day},survey\n')
    path.with_suffix(".done").touch()
    return path


def write_jira_csv(path: Path, rows: int, seed: int = 5) -> Path:
    """A Jira Cloud export with what a team keeps: types and sub-tasks, custom statuses with
    their category, priorities, two Labels columns, one or two Sprint columns (a carried-over
    item), epic links and parents (some pointing forward), comments, assignees, rank."""
    if path.exists() and path.stat().st_size > 0 and path.with_suffix(".done").exists():
        return path
    rng = random.Random(seed)
    statuses = [("To Do", "To Do"), ("In Progress", "In Progress"), ("UAT", "In Progress"), ("Done", "Done")]
    people = [(f"Person {n}", f"acc-{n:04d}") for n in range(40)]
    header = (
        "Summary,Issue key,Issue id,Issue Type,Status,Status Category,Priority,Resolution,Assignee,Assignee Id,"
        "Created,Updated,Resolved,Labels,Labels,Sprint,Sprint,Custom field (Story point estimate),Parent,"
        "Custom field (Epic Link),Comment,Comment,Description,Custom field (Rank)\n"
    )
    epics = max(1, rows // 50)
    with path.open("w") as handle:
        handle.write(header)
        for i in range(rows):
            key = f"BEN-{i + 1}"
            is_epic = i % 50 == 0
            kind = "Epic" if is_epic else rng.choice(["Story", "Bug", "Task", "Sub-task"])
            status, category = rng.choice(statuses)
            resolved = "" if category != "Done" else f"{rng.randint(10, 28):02d}/Mar/25 4:{rng.randint(10, 59)} PM"
            person, account = rng.choice(people)
            sprint = rng.randint(1, 20)
            sprints = [f"BEN Sprint {sprint}"] + ([f"BEN Sprint {sprint + 1}"] if rng.random() < 0.1 else [])
            epic = "" if is_epic else f"BEN-{rng.randrange(epics) * 50 + 1}"
            parent = str(100000 + rng.randrange(rows)) if kind == "Sub-task" else ""
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            comment = f"0{rng.randint(1, 9)}/Mar/25 9:0{rng.randint(0, 9)} AM;{account};Looked at {rng.choice(WORDS)}"
            cells = [
                f"Issue {i} {rng.choice(WORDS)}", key, str(100000 + i), kind, status, category,
                rng.choice(["Highest", "High", "Medium", "Low"]), "Done" if resolved else "", person, account,
                f"{rng.randint(1, 28):02d}/Feb/25 {rng.randint(1, 12)}:{rng.randint(10, 59)} AM", "", resolved,
                rng.choice(WORDS), rng.choice(WORDS), sprints[0], sprints[1] if len(sprints) > 1 else "",
                str(rng.choice([1, 2, 3, 5, 8])), parent, epic, comment, "", f'"{words}"',
                f"0|i{i:06x}:",
            ]  # fmt: skip
            handle.write(",".join(cells) + "\n")
    path.with_suffix(".done").touch()
    return path


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Workers:
    """`count` Celery worker processes consuming both queues."""

    def __init__(self, env: dict[str, str], count: int, celery: str, root: Path) -> None:
        self.env, self.count, self.celery, self.root = env, count, celery, root
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Workers:
        from config.celery import app

        for n in range(self.count):
            self.procs.append(
                subprocess.Popen(
                    [
                        self.celery,
                        "-A",
                        "config",
                        "worker",
                        "-Q",
                        "interactive,bulk",
                        "-P",
                        "solo",
                        "-n",
                        f"bench{n}@%h",
                        "--without-gossip",
                        "--without-mingle",
                        "-l",
                        "warning",
                    ],
                    cwd=self.root,
                    env={**self.env, "C_FORCE_ROOT": "1"},
                    stdout=subprocess.DEVNULL,
                )  # fmt: skip
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=0.5)
            if len(replies) >= self.count:
                return self
        raise RuntimeError("celery workers did not come up")

    def peak_rss_mb(self) -> float:
        return max(peak_rss_mb(p.pid) for p in self.procs)

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=60)


def fresh_workspace(label: str) -> Any:
    from tracker.models import Workspace

    return Workspace.objects.create(slug=f"bench-{label}-{time.time_ns() % 10**9}", name=f"Bench {label}")


def drop_workspaces(prefix: str = "bench-import-") -> None:
    """Delete benchmark import workspaces with plain SQL, table by table (an ORM cascade over
    a million feedback would collect them all in memory first), then vacuum those tables."""
    from django.db import connection, transaction

    from tracker.dbstats import refresh_statistics

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tracker_workspace WHERE slug LIKE %s", [prefix + "%"])
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'workspace_id' "
            "AND table_name LIKE 'tracker\\_%%'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_name LIKE 'tracker\\_%%' "
            "AND column_name IN ('project_id', 'item_id', 'backlogitem_id')"
        )
        scoped = cursor.fetchall()
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")  # foreign keys: all rows go together
            cursor.execute("DELETE FROM tracker_importchunk WHERE job_id IN (SELECT id FROM tracker_importjob WHERE workspace_id = ANY(%s))", [ids])  # fmt: skip
            # A backlog import's rows hang off its project and items (comments, labels, sprints).
            projects = "SELECT id FROM tracker_project WHERE workspace_id = ANY(%s)"
            items = f"SELECT id FROM tracker_backlogitem WHERE project_id IN ({projects})"  # noqa: S608
            for table, column in scoped:
                if column != "project_id" and table not in tables:
                    cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({items})", [ids])  # noqa: S608
            for table, column in scoped:
                if column == "project_id" and table not in tables:
                    cursor.execute(f"DELETE FROM {table} WHERE project_id IN ({projects})", [ids])  # noqa: S608
            for table in tables:
                cursor.execute(f"DELETE FROM {table} WHERE workspace_id = ANY(%s)", [ids])  # noqa: S608 - catalog names
            cursor.execute("DELETE FROM tracker_workspace WHERE id = ANY(%s)", [ids])
    # Reclaim the deleted rows now, as autovacuum would: where it is off, every run left its
    # imports' rows dead in the tables (23 million postings after two runs).
    refresh_statistics(*tables, "tracker_importchunk", "tracker_workspace")


def import_files(paths: list[Path]) -> dict[str, float]:
    """Queue one feedback import per file (each into a fresh workspace), wait for all; rows/s."""
    from tracker.models import ImportJob, ImportStatus
    from tracker.services.imports import import_start

    started = time.perf_counter()
    jobs = []
    for path in paths:
        with path.open("rb") as upload:
            workspace = fresh_workspace("import")
            jobs.append(import_start(workspace=workspace, actor=None, kind="feedback", filename=path.name, data=upload))
    ids = [job.pk for job in jobs]
    while True:
        states = list(ImportJob.objects.filter(pk__in=ids).values_list("status", "rows_done", "error_count"))
        if all(s in (ImportStatus.DONE, ImportStatus.FAILED) for s, _, _ in states):
            break
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    if any(s != ImportStatus.DONE for s, _, _ in states):
        raise RuntimeError(f"an import failed: {states}")
    rows = sum(done for _, done, _ in states)
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}


def import_backlog(path: Path) -> dict[str, float]:
    """Queue one backlog import (a Jira export into a fresh project), wait for it; rows/s."""
    from tracker.models import ImportJob, ImportStatus, Project
    from tracker.services.imports import import_start

    started = time.perf_counter()
    with path.open("rb") as upload:
        workspace = fresh_workspace("import")
        project = Project.objects.create(workspace=workspace, key="BEN", name="Bench")
        job = import_start(
            workspace=workspace, actor=None, kind="backlog", filename=path.name, data=upload, project=project
        )
    while True:
        job.refresh_from_db()
        if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
            break
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    if job.status != ImportStatus.DONE or job.error_count:
        raise RuntimeError(f"the backlog import failed: {job.status} {job.message} {job.errors[:3]}")
    done = ImportJob.objects.get(pk=job.pk).rows_done
    return {"rows": done, "seconds": seconds, "rows_per_second": done / seconds}


def new_feedback(workspace: Any, count: int, seed: int) -> list[Any]:
    """Feedback written without the service (no dispatch): the tasks are sent by the caller."""
    from django.utils import timezone

    from tracker.models import Feedback

    rng = random.Random(seed)
    texts = [
        "Checkout is slow on mobile and the payment button keeps loading",
        "Export to excel fails with a timeout for big reports",
        "Please add dark mode to the dashboard",
        "Login with password reset email never arrives",
        "Offline sync loses photos uploaded from the tablet",
        "Search filter ignores the date and shows old invoices",
    ]
    now = timezone.now()
    return Feedback.objects.bulk_create(
        [
            Feedback(workspace=workspace, body=f"{rng.choice(texts)}. {rng.choice(texts)}.", received_at=now)
            for _ in range(count)
        ]
    )


def forget_feedback(workspace: Any, feedback: list[Any]) -> None:
    """Remove benchmark feedback and its postings, so the workspace keeps its size."""
    from tracker.models import Feedback
    from tracker.services.similarity import _index

    _index(workspace.pk, [("feedback", f.pk, "") for f in feedback])
    Feedback.objects.filter(pk__in=[f.pk for f in feedback]).delete()


def _dispatch_suggestions(feedback: list[Any]) -> list[int]:
    """Queue suggestions as the product does: a TaskRecord per feedback, sent after commit."""
    from django.db import transaction

    from tracker.services.dispatch import dispatch

    with transaction.atomic():
        return [dispatch("tracker.feedback_suggest_task", str(fb.pk)).pk for fb in feedback]


def _wait_done(record_ids: list[int], timeout: float = 300) -> list[tuple[Any, Any]]:
    """(created_at, done_at) of each record once all are done (tasks keep no results)."""
    from tracker.models import TaskRecord, TaskState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(
            TaskRecord.objects.filter(pk__in=record_ids, state=TaskState.DONE).values_list("created_at", "done_at")
        )
        if len(rows) == len(record_ids):
            return rows
        time.sleep(0.002)
    raise RuntimeError("suggestion tasks did not finish")


def suggestion_latency(workspace: Any, count: int) -> dict[str, float]:
    """One new feedback at a time: from queueing its suggestions to their being stored (ms)."""
    feedback = new_feedback(workspace, count, seed=21)
    timings = []
    try:
        for fb in feedback:
            ((created, done),) = _wait_done(_dispatch_suggestions([fb]))
            timings.append((done - created).total_seconds() * 1000)
    finally:
        forget_feedback(workspace, feedback)
    timings.sort()
    return {"p50": statistics.median(timings), "p95": timings[int(0.95 * (len(timings) - 1))]}


def suggestion_throughput(workspace: Any, count: int, seed: int) -> float:
    """`count` new feedback queued at once; suggestions stored per second until the last."""
    feedback = new_feedback(workspace, count, seed=seed)
    try:
        rows = _wait_done(_dispatch_suggestions(feedback))
        first = min(created for created, _ in rows)
        last = max(done for _, done in rows)
        return count / (last - first).total_seconds()
    finally:
        forget_feedback(workspace, feedback)


def with_workers(env: dict[str, str], count: int, celery: str, root: Path, body: Callable[[Workers], Any]) -> Any:
    from config.celery import app

    app.control.purge()  # nothing left over from earlier runs competes with the measurement
    with Workers(env, count, celery, root) as workers:
        return body(workers)
