"""Feedback import throughput and memory: N generated CSV rows through import_start +
import_run (what a worker runs), in this process. Prints rows/s and peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loopwise_bench \
        .venv/bin/python bench/import_throughput.py --rows 100000
"""

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "search checkout slow crash login export excel dark mode offline sync upload photo payment invoice report "
    "dashboard filter notification email password reset mobile tablet screen button loading error timeout"
).split()


def write_csv(path: Path, rows: int, rng: random.Random) -> None:
    with path.open("w") as handle:
        handle.write("id,text,email,customer,nps,csat,date,channel\n")
        for i in range(rows):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
            c = rng.randint(1, 20000)
            nps = rng.randint(0, 10) if rng.random() < 0.5 else ""
            day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            handle.write(f'r{i},"The {words}.",c{c}@example.com,Customer {c},{nps},,{day},survey\n')


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory: not what a worker does
    from config.celery import app

    # The upload is queued (to the in-memory broker) and run below, as a worker would.
    app.conf.task_always_eager = False

    from tracker.models import Workspace
    from tracker.services.imports import import_run, import_start

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    # A new workspace per run: every row is a create, as in a first import.
    workspace = Workspace.objects.create(slug=f"bench-import-{int(time.time())}", name="Import bench")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feedback.csv"
        write_csv(path, args.rows, random.Random(3))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with path.open("rb") as upload:
            job = import_start(workspace=workspace, actor=None, kind="feedback", filename=path.name, data=upload)
        stored = time.perf_counter() - started
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        job = import_run(job.pk)
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "rows": args.rows,
                "created": job.created,
                "errors": job.error_count,
                "store_seconds": round(stored, 1),
                "import_seconds": round(elapsed, 1),
                "rows_per_second": round(args.rows / elapsed),
                "peak_rss_mb_before": round(rss_before / 1024),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
