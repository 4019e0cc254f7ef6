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
    """ANALYZE `tables` unless another ANALYZE or VACUUM of them holds them longer than
    `wait` (then it is their statistics that are being refreshed anyway). Safe inside or
    outside a transaction; False when skipped or on another database than PostgreSQL.

    A long job that grows a table calls this as it goes: ANALYZE reads a fixed sample
    (30,000 rows by default), so its cost does not grow with the table.
    """
    if connection.vendor != "postgresql" or not tables:
        return False
    names = ", ".join(connection.ops.quote_name(t) for t in tables)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [wait])
            cursor.execute(f"ANALYZE {names}")
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    except DatabaseError as exc:  # lock_not_available: someone else is analyzing them
        logger.info("ANALYZE %s skipped: %s", names, exc)
        return False
    return True
