"""A worker killed in the middle of a task: the task runs again on another worker and its
effect happens once. Real worker processes (SIGKILL needs a process), real Redis, and
PostgreSQL (the worker processes must share the test database; SQLite's is in memory)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import OperationalError

from config.celery import app as celery_app
from tests.bg_helpers import broker
from tests.conftest import need, port_open
from tracker.models import Feedback, ImportJob, ImportStatus, TaskRecord, TaskState
from tracker.services.imports import import_start

REDIS_URL = os.environ.get("LOOPWISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def worker_process(name: str, logs: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        # A short visibility timeout so the killed worker's message comes back quickly.
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "IMPORT_BATCH_SIZE": "250",
        "CONN_MAX_AGE": "0",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "-Q",
            "interactive,bulk",
            "-n",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(logs / f"worker-{name}.log").open("w"),  # read it when this test fails
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:
            pass  # SQLite's shared in-memory test database: the worker thread holds a lock
        time.sleep(0.1)
    pytest.fail(f"Timed out waiting for {what}")


def test_an_import_killed_mid_way_resumes_on_another_worker_and_imports_each_row_once(workspace, on_postgres, tmp_path):
    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    rows = 12_000
    data = "text,id\n" + "".join(f"Feedback number {i} about search,k{i}\n" for i in range(rows))
    first = worker_process("first", tmp_path)
    second = None
    try:
        with broker(celery_app, REDIS_URL):
            job = import_start(workspace=workspace, actor=None, kind="feedback", filename="f.csv", data=data.encode())
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).rows_done >= 1000, 60, "the first worker to start")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        job.refresh_from_db()
        assert job.status == ImportStatus.RUNNING and job.rows_done < rows
        second = worker_process("second", tmp_path)
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE, 90, "the second worker")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(15)
    job.refresh_from_db()
    assert (job.rows_done, job.created, job.updated, job.error_count) == (rows, rows, 0, 0)
    assert Feedback.objects.filter(workspace=workspace).count() == rows
    assert TaskRecord.objects.get(task="tracker.import_run_task").state == TaskState.DONE
