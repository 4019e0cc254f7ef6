"""Throughput of POST .../items/bulk/ (1,000 upserts per batch), through the whole API stack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loopwise_api_bench .venv/bin/python bench/bulk_upsert.py

Migrates the database it is given, works in a throwaway workspace and removes it afterwards.
Prints items per second for batches that create, update and leave unchanged 1,000 items.
"""

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from tracker import models as m  # noqa: E402
from tracker.services.tokens import token_create  # noqa: E402

BATCH = 1000
ROUNDS = 3


def main() -> None:
    call_command("migrate", verbosity=0)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    workspace = m.Workspace.objects.create(slug=slug, name="Bench")
    user = django.contrib.auth.get_user_model().objects.create(username=slug)
    m.Membership.objects.create(workspace=workspace, user=user, role=m.WorkspaceRole.OWNER)
    m.Project.objects.create(workspace=workspace, key="BENCH", name="Bench")
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(workspace=workspace, user=user).secret}")
    url = f"/api/v1/workspaces/{slug}/projects/BENCH/items/bulk/"

    def batch(offset: int, version: str) -> list[dict]:
        return [
            {
                "source": "bench",
                "external_id": f"B-{offset + n}",
                "title": f"Item {offset + n} {version}",
                "labels": ["bench", f"l{n % 10}"],
                "status": "ready",
                "estimate": "3",
            }
            for n in range(BATCH)
        ]

    def run(entries: list[dict], expect: str) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.post(url, {"items": entries}, format="json")
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.content[:500]
        assert response.json()[expect] == BATCH, response.json()
        return BATCH / elapsed, len(queries.captured_queries)

    try:
        print(f"{connection.vendor}, batches of {BATCH}, best of {ROUNDS} rounds")
        results = {
            "created": [run(batch(r * BATCH, "v1"), "created") for r in range(ROUNDS)],
            "updated": [run(batch(0, f"v{r + 2}"), "updated") for r in range(ROUNDS)],
            "unchanged": [run(batch(0, f"v{ROUNDS + 1}"), "unchanged") for _ in range(ROUNDS)],
        }
        for label, runs in results.items():
            print(f"  {label:9}: {max(r for r, _ in runs):,.0f} items/s, {runs[-1][1]} queries per batch")
    finally:
        m.Workspace.objects.filter(pk=workspace.pk).delete()
        user.delete()


if __name__ == "__main__":
    main()
