"""Reading the change feed in commit-safe order.

A position is (xid, id): the transaction that wrote a change and the change's own id. On
PostgreSQL a reader serves only changes whose transaction lies below the oldest one still
running (`pg_snapshot_xmin`); every transaction below it has committed or rolled back, and
every transaction yet to write gets a higher id, so nothing can later appear behind a
position that was served. On SQLite writers take turns, ids are assigned in commit order
and xid is 0: the id alone is the order.
"""

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan

from tracker.models import Change, FeedState, Workspace

Position = tuple[int, int]
START: Position = (0, 0)
# Past any change id: "everything of this transaction and the ones before it".
END_OF_XID = 2**63 - 1
# A mark written this close before `updated_since` still counts as before it: the mark's
# time is the application's clock, taken a moment before the row is written.
MARK_MARGIN = timedelta(seconds=1)


class FeedExpired(Exception):
    """The position lies in the part of the feed that was pruned: the client must resync."""


def horizon() -> int | None:
    """The transaction id below which every change is final; None when all are (SQLite).

    A transaction sees its own changes: when it is itself the oldest one running, nothing
    older can still commit, so its own rows are served too (a test's single transaction, a
    request that writes and then reads).
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
            " pg_current_xact_id_if_assigned()::text::bigint"
        )
        oldest, own = cursor.fetchone()
    if own is not None and own == oldest:
        return own + 1
    return oldest


def after(position: Position) -> TupleGreaterThan:
    return TupleGreaterThan(Tuple("xid", "id"), tuple(position))


def changes_after(queryset: QuerySet[Change], position: Position, *, limit: int, below: int | None) -> list[Change]:
    """The next `limit` changes of `queryset` after `position`, final ones only, in order."""
    queryset = queryset.filter(after(position))
    if below is not None:
        queryset = queryset.filter(xid__lt=below)
    return list(queryset.order_by("xid", "id")[:limit])


def feed_state(workspace: Workspace) -> FeedState:
    """The workspace's feed bounds (a workspace made after the feed existed has no row: its
    feed starts at its creation and nothing was pruned)."""
    cached = getattr(workspace, "_feed_state", None)  # one read per request's workspace
    if cached is not None:
        return cached
    state = FeedState.objects.filter(workspace=workspace).first()
    state = state or FeedState(workspace=workspace, started_at=workspace.created_at)
    workspace._feed_state = state  # type: ignore[attr-defined]
    return state


def check_not_pruned(state: FeedState, position: Position) -> None:
    if position < (state.pruned_xid, state.pruned_id):
        raise FeedExpired()


def position_at(workspace: Workspace, since: datetime) -> Position | None:
    """A position from which every change committed at or after `since` is served; None when
    the feed does not reach back that far (the caller serves a snapshot instead).

    Each change row keeps the oldest transaction running when it was written: every
    transaction below it had finished by then. So the newest row written before `since`
    gives a bound that no change committed after `since` lies below.
    """
    state = feed_state(workspace)
    pruned = (state.pruned_xid, state.pruned_id)
    if since < state.started_at:
        # A feed that holds the workspace's whole life serves everything from its start;
        # otherwise the rows from before it are a snapshot.
        whole_life = pruned == START and state.started_at <= workspace.created_at + MARK_MARGIN
        return START if whole_life else None
    mark = (
        Change.objects.filter(workspace=workspace, at__lte=since - MARK_MARGIN)
        .order_by("-at")
        .values_list("oldest_xid", flat=True)
        .first()
    )
    if mark is None or connection.vendor != "postgresql":
        # SQLite: ids are in commit order; the first row at or after `since` is the bound.
        if connection.vendor != "postgresql":
            first = (
                Change.objects.filter(workspace=workspace, at__gte=since - MARK_MARGIN)
                .order_by("at")
                .values_list("id", flat=True)
                .first()
            )
            if first is not None:
                return max(pruned, (0, first - 1))
            last = Change.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True).first()
            return max(pruned, (0, last or 0))
        return pruned
    return max(pruned, (mark - 1, END_OF_XID))


def live_position(workspace: Workspace) -> Position:
    """The position a snapshot started now may continue from: everything below the current
    horizon is in the snapshot's rows already."""
    below = horizon()
    if below is None:
        last = Change.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True).first()
        return (0, last or 0)
    return (below - 1, END_OF_XID)


__all__ = [
    "END_OF_XID",
    "START",
    "FeedExpired",
    "Position",
    "after",
    "changes_after",
    "check_not_pruned",
    "feed_state",
    "horizon",
    "live_position",
    "position_at",
]
