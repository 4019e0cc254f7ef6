"""Bounded load test: mixed API reads and writes from N concurrent clients for a fixed time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loopwise_load .venv/bin/python -m bench.load

Serves the app with gunicorn on loopback (production settings, DEBUG off), gives every
client its own token, and runs for `--seconds` (120 by default) with `--clients` (50)
threads; it stops by itself. Each client mixes reads (backlog pages, an item, feedback)
with writes (create an item, record feedback, edit its own item with If-Match, move it to
the top), every POST with an Idempotency-Key. At the end it counts the rows the run made
and compares them with the writes the server acknowledged: any difference is a lost (or
doubled) write. Exit status 1 on any error or mismatch. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from bench import harness
from bench.harness import ROOT, SERVER_ENV

SLUG, KEY = "loadtest", "LOAD"


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    items_created: int = 0
    feedback_created: int = 0
    edits: int = 0
    moves: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int | None, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            self.statuses[str(status)] += 1
            ok = status is not None and 200 <= status < 300
            if not ok:
                self.errors += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{kind}: {status} {detail[:200]}")
                return
            if kind == "create_item":
                self.items_created += 1
            elif kind == "create_feedback":
                self.feedback_created += 1
            elif kind == "edit":
                self.edits += 1
            elif kind == "move":
                self.moves += 1


def Server(db_url: str, *, workers: int = 2, threads: int = 8) -> harness.Server:  # noqa: N802 - the test imports it as a class
    """gunicorn with threaded workers, as a site under mixed load would run."""
    return harness.Server(
        db_url, worker_args=["-w", str(workers), "-k", "gthread", "--threads", str(threads)], timeout=60
    )


def client_loop(base: str, secret: str, marker: str, index: int, stop_at: float, tally: Tally, seed: int) -> None:
    """One client: a private session, its own items to edit and move, shared pages to read."""
    rng = random.Random(seed)
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {secret}", "Accept": "application/json"})
    api = f"{base}/api/v1/workspaces/{SLUG}"
    mine: list[tuple[int, int]] = []  # (number, version) of items this client made

    def call(kind: str, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=30, **kwargs)
        except requests.RequestException as exc:
            tally.record(kind, None, time.perf_counter() - started, repr(exc))
            return None
        tally.record(kind, response.status_code, time.perf_counter() - started, response.text)
        return response

    n = 0
    while time.monotonic() < stop_at:
        n += 1
        roll = rng.random()
        if roll < 0.25:
            call("list_items", "GET", f"{api}/projects/{KEY}/items/?page_size=50")
        elif roll < 0.40:
            call("list_feedback", "GET", f"{api}/feedback/?page_size=20")
        elif roll < 0.55:
            number = rng.choice(mine)[0] if mine else 1
            call("read_item", "GET", f"{api}/projects/{KEY}/items/{number}/")
        elif roll < 0.70:
            title = f"{marker} c{index} n{n}"
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            response = call(
                "create_item", "POST", f"{api}/projects/{KEY}/items/", json={"title": title}, headers=headers
            )
            if response is not None and response.status_code == 201:
                body = response.json()
                mine.append((body["number"], body["version"]))
        elif roll < 0.80:
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            body = {"body": f"{marker} c{index} n{n} feedback", "channel": "api", "nps": rng.randint(0, 10)}
            call("create_feedback", "POST", f"{api}/feedback/", json=body, headers=headers)
        elif roll < 0.90 and mine:
            at = rng.randrange(len(mine))
            number, version = mine[at]
            response = call(
                "edit",
                "PATCH",
                f"{api}/projects/{KEY}/items/{number}/",
                json={"estimate": str(rng.randint(1, 8))},
                headers={"If-Match": f'"{version}"'},
            )
            if response is not None and response.status_code == 200:
                mine[at] = (number, response.json()["version"])
        elif mine:
            at = rng.randrange(len(mine))
            number, _ = mine[at]
            response = call(
                "move",
                "POST",
                f"{api}/projects/{KEY}/items/{number}/move/",
                json={"position": "top"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            if response is not None and response.status_code == 200:
                mine[at] = (number, response.json()["version"])
        else:
            call("list_items", "GET", f"{api}/projects/{KEY}/items/?page_size=50")


def run_load(base: str, secrets: list[str], *, seconds: float, marker: str, seed: int = 1) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(base, secret, marker, i, stop_at, tally, seed + i), daemon=True)
        for i, secret in enumerate(secrets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return tally


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary(tally: Tally, *, seconds: float, clients: int, rows: dict[str, int]) -> dict[str, Any]:
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": tally.requests,
        "requests_per_second": round(tally.requests / seconds, 1),
        "errors": tally.errors,
        "statuses": dict(tally.statuses),
        "error_samples": tally.error_samples,
        "latency_ms": {
            "p50": round(percentile(tally.latencies, 50) * 1000, 1),
            "p95": round(percentile(tally.latencies, 95) * 1000, 1),
            "p99": round(percentile(tally.latencies, 99) * 1000, 1),
            "mean": round(statistics.fmean(tally.latencies) * 1000, 1) if tally.latencies else 0,
        },
        "writes_acknowledged": {
            "items": tally.items_created,
            "feedback": tally.feedback_created,
            "edits": tally.edits,
            "moves": tally.moves,
        },
        "rows_found": rows,
    }


def seed_workspace(clients: int) -> list[str]:
    """The load-test workspace (made once, reused) and one fresh token per client."""
    from django.contrib.auth import get_user_model

    from tracker.models import BacklogItem, Membership, Project, Workspace, WorkspaceRole
    from tracker.services.backlog import item_create
    from tracker.services.tokens import token_create

    workspace, _ = Workspace.objects.get_or_create(slug=SLUG, defaults={"name": "Load test"})
    Project.objects.get_or_create(workspace=workspace, key=KEY, defaults={"name": "Load"})
    user, _ = get_user_model().objects.get_or_create(username="loadtest")
    Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": WorkspaceRole.OWNER})
    project = Project.objects.get(workspace=workspace, key=KEY)
    if not BacklogItem.objects.filter(project=project, number=1).exists():
        item_create(project=project, actor=user, title="The item every client reads")
    return [token_create(workspace=workspace, user=user, name=f"load {n}").secret for n in range(clients)]


def count_rows(marker: str) -> dict[str, int]:
    from tracker.models import BacklogItem, Feedback

    return {
        "items": BacklogItem.objects.filter(title__startswith=marker, deleted_at__isnull=True).count(),
        "feedback": Feedback.objects.filter(body__startswith=marker).count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("Set DATABASE_URL to a PostgreSQL database (createdb it first).", file=sys.stderr)
        return 2
    os.environ.update(SERVER_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)
    secrets = seed_workspace(args.clients)
    marker = f"load-{uuid.uuid4().hex[:8]}"
    from django.db import connections

    connections.close_all()
    with Server(db_url, workers=args.workers, threads=args.threads) as server:
        tally = run_load(server.url, secrets, seconds=args.seconds, marker=marker)
    result = summary(tally, seconds=args.seconds, clients=args.clients, rows=count_rows(marker))
    print(json.dumps(result, indent=2))
    lost = (
        result["rows_found"]["items"] != tally.items_created
        or result["rows_found"]["feedback"] != tally.feedback_created
    )
    return 1 if tally.errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
