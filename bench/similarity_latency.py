"""Latency of similarity suggestions for one new feedback in a large workspace.

Builds (once, reused on later runs) a workspace `bench-similarity` with N feedback whose
texts are recombined from the real app reviews, indexes it in bulk, then times
`suggestions_refresh` (index the new feedback + rank + store) for new feedback and prints
p50 / p95 in milliseconds.

Run against PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loopwise_bench \
        .venv/bin/python bench/similarity_latency.py --feedback 200000 --queries 200
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path


def texts(path: Path) -> list[str]:
    with path.open() as handle:
        return [json.loads(line)["text"].strip() for line in handle if json.loads(line)["text"].strip()]


def synthesize(sentences: list[str], rng: random.Random) -> str:
    """One to three sentences of different reviews: realistic words, realistic length."""
    return " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 3)))


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False  # DEBUG keeps every SQL statement in memory: not what a worker does
    from django.utils import timezone

    from tracker.models import Feedback, TermStat, Workspace
    from tracker.services.similarity import feedback_index, suggestions_refresh

    parser = argparse.ArgumentParser()
    parser.add_argument("--feedback", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--data",
        default=os.environ.get("LOOPWISE_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data")),
    )
    args = parser.parse_args()

    rng = random.Random(7)
    reviews = texts(Path(args.data) / "app-reviews-labelled.jsonl")
    sentences = [
        s.strip() for r in reviews for s in r.replace("!", ".").replace("?", ".").split(".") if len(s.strip()) > 15
    ]
    workspace, _ = Workspace.objects.get_or_create(slug="bench-similarity", defaults={"name": "Similarity bench"})
    have = Feedback.objects.filter(workspace=workspace).count()
    started = time.perf_counter()
    now = timezone.now()
    while have < args.feedback:
        n = min(5000, args.feedback - have)
        rows = Feedback.objects.bulk_create(
            [Feedback(workspace=workspace, body=synthesize(sentences, rng), received_at=now) for _ in range(n)],
            batch_size=5000,
        )
        feedback_index(rows, fresh=True)
        have += n
        print(f"  built {have:,} feedback", file=sys.stderr)
    build = time.perf_counter() - started
    docs = TermStat.objects.get(workspace=workspace, term="").df
    timings = []
    created = []
    for _ in range(args.queries):
        fb = Feedback.objects.create(workspace=workspace, body=synthesize(sentences, rng), received_at=now)
        created.append(fb.pk)
        t0 = time.perf_counter()
        suggestions_refresh(fb.pk)
        timings.append((time.perf_counter() - t0) * 1000)
    # Keep the workspace at its size for the next run.
    from tracker.services.similarity import _index

    _index(workspace.pk, [("feedback", pk, "") for pk in created])
    Feedback.objects.filter(pk__in=created).delete()
    timings.sort()
    result = {
        "database": connection.vendor,
        "indexed_documents": docs,
        "build_seconds": round(build, 1),
        "queries": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "max_ms": round(timings[-1], 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
