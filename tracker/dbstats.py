"""Planner statistics after bulk loads (PostgreSQL; nothing to do on SQLite)."""

import logging

from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)


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


def analyze_if_free(*tables: str, wait: str = "1s") -> bool:
    """ANALYZE `tables` unless a conflicting lock (another ANALYZE or a VACUUM of them, an
    index build, some ALTER TABLEs) keeps them longer than `wait`. Safe inside or outside a
    transaction (inside, ANALYZE's lock is then held until the caller commits); the caller's
    lock_timeout is left as it was. False when skipped, or on another database than
    PostgreSQL; any other database error is raised.

    A long job that grows a table calls this as it goes: ANALYZE reads a fixed sample
    (30,000 rows by default), so its cost does not grow with the table.
    """
    if connection.vendor != "postgresql" or not tables:
        return False
    from psycopg.errors import LockNotAvailable

    names = ", ".join(connection.ops.quote_name(t) for t in tables)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", [wait])
            before = cursor.fetchone()[0]
            cursor.execute(f"ANALYZE {names}")
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
    except DatabaseError as exc:
        if not isinstance(exc.__cause__, LockNotAvailable):
            raise
        logger.info("ANALYZE %s skipped: %s", names, exc)
        return False
    return True
