"""The change feed: one row per changed object, written by the write core in the change's
transaction, read by sync clients and by the consumers (webhooks, similarity, …).

Order is commit-safe. On PostgreSQL each row carries the id of the transaction that wrote
it (`xid`); a reader serves only rows below the oldest transaction still running, so no
row can ever appear behind a position already served, however long a transaction stays
open (tracker.feed.read). SQLite has one writer at a time, so its ids are already in commit
order and `xid` is 0 throughout. Each row also keeps that oldest running transaction at
the moment it was written (`oldest_xid`): a time → position mark for `?updated_since=`.
"""

from django.db import models
from django.db.models import Func

from tracker.models.workspace import Workspace


class CurrentTransactionId(Func):
    """The writing transaction's id as a bigint (PostgreSQL); 0 elsewhere."""

    template = "0"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):  # noqa: ANN001, ANN003, ANN201
        return "(pg_current_xact_id()::text::bigint)", []


class OldestRunningTransaction(Func):
    """The oldest transaction id still running when the row is written (PostgreSQL); 0 elsewhere."""

    template = "0"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):  # noqa: ANN001, ANN003, ANN201
        return "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", []


class ChangeKind(models.TextChoices):
    ITEM = "item", "Item"
    FEEDBACK = "feedback", "Feedback"
    LINK = "link", "Feedback link"
    CUSTOMER = "customer", "Customer"
    SPRINT = "sprint", "Sprint"
    COMMENT = "comment", "Comment"


# Kinds whose feed is read per project (the scope is the project); the others per workspace.
PROJECT_KINDS = frozenset({ChangeKind.ITEM, ChangeKind.SPRINT, ChangeKind.COMMENT})


class ChangeOp(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"


class Change(models.Model):
    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The project for items, sprints and comments, the workspace for the rest: sync reads one
    # scope and kind in feed order from one index.
    scope = models.UUIDField()
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    object_id = models.UUIDField()
    op = models.CharField(max_length=6, choices=ChangeOp.choices)
    version = models.PositiveIntegerField(null=True, blank=True)
    # The names of the fields an update changed (consumers skip what does not concern them).
    fields = models.JSONField(null=True, blank=True)
    # What a tombstone must say once the row is gone (a link's two ends).
    data = models.JSONField(null=True, blank=True)
    at = models.DateTimeField()
    xid = models.BigIntegerField(db_default=CurrentTransactionId())
    oldest_xid = models.BigIntegerField(db_default=OldestRunningTransaction())

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "xid", "id"], name="change_ws_order"),
            models.Index(fields=["scope", "kind", "xid", "id"], name="change_scope_order"),
            models.Index(fields=["workspace", "at"], include=["oldest_xid"], name="change_ws_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.op} v{self.version}"

    @property
    def position(self) -> tuple[int, int]:
        return (self.xid, self.id)


class FeedState(models.Model):
    """Where a workspace's feed begins: changes before `started_at` were never recorded (the
    workspace predates the feed) or were pruned (up to and including `pruned_xid, pruned_id`)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+")
    started_at = models.DateTimeField()
    pruned_xid = models.BigIntegerField(default=0)
    pruned_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed of {self.workspace_id} from {self.started_at:%Y-%m-%d %H:%M}"


class ConsumerPosition(models.Model):
    """How far one consumer has processed one workspace's feed (the last change it handled)."""

    consumer = models.CharField(max_length=40)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    xid = models.BigIntegerField(default=0)
    change_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "workspace"], name="consumer_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer} of {self.workspace_id} at ({self.xid}, {self.change_id})"
