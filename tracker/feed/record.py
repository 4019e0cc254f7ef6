"""Appending to the change feed: the write core's last step, in the change's transaction."""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from tracker.models import Change


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One changed object, as the write core describes it."""

    kind: str
    object_id: Any
    op: str
    scope: Any
    version: int | None = None
    fields: tuple[str, ...] | None = None
    data: dict[str, Any] | None = None


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


COLUMNS = ("workspace_id", "scope", "kind", "object_id", "op", "version", "fields", "data", "at")


def changes_record(*, workspace_id: Any, rows: Iterable[ChangeRow], at: datetime | None = None) -> int:
    """Append one change per row to the workspace's feed, in the caller's transaction, and
    wake the consumers once it commits. Returns how many were written.

    The transaction id and the oldest running transaction come from the column defaults
    (tracker.models.feed), so they are the database's own, not the application's.
    """
    rows = list(rows)
    if not rows:
        return 0
    at = at or timezone.now()
    ws = uuid.UUID(str(workspace_id))
    quote = connection.ops.quote_name
    table = quote(Change._meta.db_table)
    columns = ", ".join(quote(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY leaves out the defaulted columns (id, xid, oldest_xid): one statement per batch.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        (
                            ws,
                            _uuid(row.scope),
                            row.kind,
                            _uuid(row.object_id),
                            row.op,
                            row.version,
                            None if row.fields is None else Jsonb(list(row.fields)),
                            None if row.data is None else Jsonb(row.data),
                            at,
                        )
                    )
        else:
            stamp = Change._meta.get_field("at").get_db_prep_value(at, connection)
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 - names from the model
                [
                    (
                        ws.hex,
                        uuid.UUID(str(row.scope)).hex,
                        row.kind,
                        uuid.UUID(str(row.object_id)).hex,
                        row.op,
                        row.version,
                        None if row.fields is None else json.dumps(list(row.fields)),
                        None if row.data is None else json.dumps(row.data),
                        stamp,
                    )
                    for row in rows
                ],
            )
    _wake_on_commit(ws)
    return len(rows)


def _wake_on_commit(workspace_id: uuid.UUID) -> None:
    """Run the workspace's consumers after commit, once per transaction however many writes
    it made (a callback already waiting for this workspace is enough)."""
    for _savepoints, func, _robust in connection.run_on_commit:
        if getattr(func, "feed_workspace", None) == workspace_id:
            return

    def wake() -> None:
        from tracker.feed.consumers import consumers_wake

        consumers_wake(workspace_id)

    wake.feed_workspace = workspace_id  # type: ignore[attr-defined]
    # robust: a broker that is down must not turn the committed write into an error; the
    # sweeper runs every consumer each minute anyway.
    transaction.on_commit(wake, robust=True)
