"""A shorter run of bench/load.py in CI (PostgreSQL pass only): 50 clients for 20 seconds
of mixed reads and writes against gunicorn; no errors and no lost writes.

The full two-minute run is `python -m bench.load` (see docs/security.md for its figures).
"""

import uuid

import pytest
from django.db import connection, connections

from bench.load import Server, count_rows, run_load, seed_workspace, summary

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS, SECONDS = 50, 20


def test_fifty_clients_for_twenty_seconds_lose_nothing(on_postgres):
    secrets = seed_workspace(CLIENTS)
    marker = f"ci-{uuid.uuid4().hex[:8]}"
    settings = connection.settings_dict
    db_url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    connections.close_all()
    with Server(db_url) as server:
        tally = run_load(server.url, secrets, seconds=SECONDS, marker=marker)
    rows = count_rows(marker)
    result = summary(tally, seconds=SECONDS, clients=CLIENTS, rows=rows)
    print(result)
    assert tally.errors == 0, result["error_samples"]
    assert tally.requests >= 200, result
    assert tally.items_created > 0 and tally.feedback_created > 0
    assert rows == {"items": tally.items_created, "feedback": tally.feedback_created}, result
