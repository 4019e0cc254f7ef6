"""Pulling changes for sync clients: `?cursor=` walks the change feed, `?updated_since=` is
translated to a position in it.

A page reads the next `size` changes of one scope (a project's items or sprints, a
workspace's feedback, links or customers) below the commit-safe horizon, and answers the
current state of each object they name (or a tombstone for one that is gone), each object
once. The cursor it hands back is the position of its last change: nothing can appear
behind it later, so a client that always resumes from the cursor it was given never misses
a change, however long a transaction ran.

When `updated_since` lies before the feed's beginning (the workspace predates the feed, or
the changes were pruned), the pull starts with a snapshot: the objects changed since then,
in (updated_at, id) order, and continues with the feed from where it stood when the
snapshot began. A cursor inside the pruned part of the feed cannot be served: FeedExpired.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan

from tracker.feed.read import (
    Position,
    changes_after,
    check_not_pruned,
    feed_state,
    horizon,
    live_position,
    position_at,
)
from tracker.models import Change, ChangeOp, Workspace


class BadCursor(ValueError):
    pass


@dataclass
class SyncCursor:
    feed: Position
    # Inside a snapshot: the (updated_at, id) of the last object served.
    snapshot: tuple[str, str] | None = None
    since: str | None = None

    def encode(self) -> str:
        body: dict[str, Any] = {"f": list(self.feed)}
        if self.snapshot is not None:
            body["s"] = list(self.snapshot)
            body["t"] = self.since
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "SyncCursor | None":
        """The cursor, or None when `text` is not a sync cursor (a list page's cursor)."""
        try:
            body = json.loads(base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise BadCursor("Invalid cursor.") from exc
        if not isinstance(body, dict):
            return None
        try:
            xid, change_id = (int(v) for v in body["f"])
            snapshot = body.get("s")
            if snapshot is not None:
                at, pk = snapshot
                datetime.fromisoformat(at)
                UUID(str(pk))
                snapshot = (str(at), str(pk))
                since = str(body["t"])
                datetime.fromisoformat(since)
            else:
                since = None
        except (KeyError, TypeError, ValueError) as exc:
            raise BadCursor("Invalid cursor.") from exc
        return cls((xid, change_id), snapshot, since)


@dataclass
class SyncPage:
    rows: list[Any]
    tombstones: list[Change] = field(default_factory=list)
    cursor: SyncCursor = field(default_factory=lambda: SyncCursor((0, 0)))
    has_more: bool = False


def sync_start(workspace: Workspace, since: datetime) -> SyncCursor:
    """Where a pull with `updated_since` begins."""
    position = position_at(workspace, since)
    if position is not None:
        return SyncCursor(position)
    at = since.astimezone(UTC).isoformat()
    return SyncCursor(live_position(workspace), snapshot=(at, ""), since=at)


def sync_page(
    *,
    workspace: Workspace,
    cursor: SyncCursor,
    changes: QuerySet[Change],
    objects: QuerySet[Any],
    size: int,
    key: str = "pk",
) -> SyncPage:
    """One page from `cursor`. `changes` are the scope's changes, `objects` the endpoint's
    rows (with its filters; soft-deleted ones included); `key` names their id (a values()
    queryset's "id")."""
    if cursor.snapshot is not None:
        return _snapshot_page(cursor, objects, size, key)
    check_not_pruned(feed_state(workspace), cursor.feed)
    found = changes_after(changes, cursor.feed, limit=size, below=horizon())
    if not found:
        return SyncPage(rows=[], cursor=cursor)
    last: dict[UUID, Change] = {}
    for change in found:
        last.pop(change.object_id, None)
        last[change.object_id] = change  # in the order of each object's latest change
    rows = {_id(row, key): row for row in objects.filter(pk__in=list(last))}
    page_rows = [rows[pk] for pk in last if pk in rows]
    tombstones = [c for pk, c in last.items() if pk not in rows and c.op == ChangeOp.DELETE]
    return SyncPage(page_rows, tombstones, SyncCursor(found[-1].position), has_more=len(found) == size)


def _id(row: Any, key: str) -> UUID:
    value = row[key] if isinstance(row, dict) else getattr(row, key)
    return value if isinstance(value, UUID) else UUID(str(value))


def _snapshot_page(cursor: SyncCursor, objects: QuerySet[Any], size: int, key: str) -> SyncPage:
    assert cursor.snapshot is not None and cursor.since is not None  # noqa: S101 - checked by the caller
    at, pk = cursor.snapshot
    queryset = objects.filter(updated_at__gte=datetime.fromisoformat(cursor.since))
    if pk:
        queryset = queryset.filter(TupleGreaterThan(Tuple("updated_at", "id"), (datetime.fromisoformat(at), UUID(pk))))
    rows = list(queryset.order_by("updated_at", "id")[: size + 1])
    if len(rows) <= size:
        # The snapshot is complete: go on with the changes since it began.
        return SyncPage(rows, cursor=SyncCursor(cursor.feed), has_more=bool(rows))
    rows = rows[:size]
    tail = rows[-1]
    updated_at = tail["updated_at"] if isinstance(tail, dict) else tail.updated_at
    next_cursor = SyncCursor(
        cursor.feed, snapshot=(updated_at.astimezone(UTC).isoformat(), str(_id(tail, key))), since=cursor.since
    )
    return SyncPage(rows, cursor=next_cursor, has_more=True)


def tombstone(change: Change) -> dict[str, Any]:
    """What a client hears of an object that is gone."""
    at = change.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "id": str(change.object_id),
        **(change.data or {}),
        "version": change.version,
        "updated_at": at,
        "deleted": True,
    }
