"""Planner statistics after bulk loads (PostgreSQL; nothing to do on SQLite)."""

from django.db import connection


def refresh_statistics(*tables: str) -> None:
    """ANALYZE `tables` (every table when none is named), with VACUUM when not inside a
    transaction (it cannot run in one).

    Right after a bulk load the planner believes the tables are empty (sorts and nested loops
    10-100x slower at scale) and, until the visibility map is set, an index-only scan still
    reads every row from the heap (docs/performance.md). Autovacuum would get there, minutes
    later.
    """
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    names = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {names}".strip())
