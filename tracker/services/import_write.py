"""Writing an import's batch: cleaned rows → the write core of feedback or items.

The import is a door like any other: it decides which rows update existing objects (by the
job's source and the row's external id) and hands creates and updates to the core, which
validates, writes History and the change feed. A row the core refuses is reported with its
line and the rest of the batch is written.
"""

from collections.abc import Callable
from typing import Any

from tracker.models import BacklogItem, Feedback, ImportJob
from tracker.services.backlog import Update, items_write, lock_project
from tracker.services.customers import Identity
from tracker.services.errors import BatchInvalid
from tracker.services.feedback import FeedbackUpdate, feedback_write

Rows = list[tuple[int, dict[str, Any]]]
Result = tuple[int, int, int, list[dict[str, Any]]]

FEEDBACK_FIELDS = ("body", "title", "nps", "csat", "ces", "channel", "tags")
ITEM_FIELDS = ("title", "description", "estimate", "status", "kind")


def _latest_per_id(rows: Rows) -> tuple[dict[str, tuple[int, dict[str, Any]]], list[tuple[int, dict[str, Any]]], int]:
    """Rows by external id (the later row of one id wins) and the rows without one."""
    by_ext: dict[str, tuple[int, dict[str, Any]]] = {}
    plain = []
    repeated = 0
    for line, row in rows:
        if row["external_id"]:
            if row["external_id"] in by_ext:
                repeated += 1
            by_ext[row["external_id"]] = (line, row)
        else:
            plain.append((line, row))
    return by_ext, plain, repeated


def _write_reporting(
    write: Callable[[set[int]], list[Any]], lines: list[int]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Write; when the core refuses entries, report them by line and write the others."""
    excluded: set[int] = set()
    errors: list[dict[str, Any]] = []
    while True:
        try:
            return write(excluded), errors
        except BatchInvalid as exc:
            for index, fields in exc.errors.items():
                excluded.add(index)
                reason = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
                errors.append({"line": lines[index], "reason": reason})


def _identity(job: ImportJob, row: dict[str, Any]) -> Identity | None:
    identity = Identity(
        email=row["email"],
        name=row["customer_name"],
        source=job.source if row["customer_external_id"] else "",
        external_id=row["customer_external_id"],
    )
    return None if identity.empty else identity.cleaned()


def write_feedback(job: ImportJob, rows: Rows) -> Result:
    if not rows:
        return 0, 0, 0, []
    by_ext, plain, repeated = _latest_per_id(rows)
    existing = {
        f.external_id: f
        # The exclude repeats the partial unique index's condition, so PostgreSQL can use the
        # index for a batch of thousands of ids (it cannot prove it from a long IN list).
        # No ORDER BY: while the statistics underestimated the workspace, the default one
        # (received_at) made PostgreSQL read the whole workspace in that order through
        # feedback_ws_received and filter it (317 ms per batch at 300,000 rows; 2.8 ms
        # after ANALYZE, see imports._refresh_lookup_statistics).
        for f in Feedback.objects.filter(workspace_id=job.workspace_id, source=job.source, external_id__in=list(by_ext))
        .exclude(external_id="")
        .order_by()
    }
    ordered = [*by_ext.values(), *plain]
    entries: list[tuple[str, int, dict[str, Any]]] = []
    for line, row in ordered:
        fields = {k: row[k] for k in FEEDBACK_FIELDS}
        if row["received_at"]:
            fields["received_at"] = row["received_at"]
        identity = _identity(job, row)
        if identity is not None:
            fields["identity"] = identity  # the core finds or creates the customer
        current = existing.get(row["external_id"]) if row["external_id"] else None
        if current is None:
            if row["external_id"]:
                fields.update(source=job.source, external_id=row["external_id"])
            entries.append(("create", line, fields))
        else:
            entries.append(("update", line, fields))

    def write(excluded: set[int]) -> list[Any]:
        creates = [(i, f) for i, (kind, _, f) in enumerate(entries) if kind == "create" and i not in excluded]
        updates = [
            FeedbackUpdate(i, existing[ordered[i][1]["external_id"]].pk, f)
            for i, (kind, _, f) in enumerate(entries)
            if kind == "update" and i not in excluded
        ]
        return feedback_write(workspace=job.workspace, actor=job.created_by, creates=creates, updates=updates)

    written, errors = _write_reporting(write, [line for _, line, _ in entries])
    created = sum(1 for _, _, outcome in written if outcome == "created")
    updated = sum(1 for _, _, outcome in written if outcome == "updated")
    unchanged = sum(1 for _, _, outcome in written if outcome == "unchanged")
    return created, updated, repeated + unchanged, errors


def write_items(job: ImportJob, rows: Rows) -> Result:
    """Upsert items by (project, source, external id); new ones go to the bottom of the
    backlog in file order. Items deleted in Loopwise stay deleted."""
    if not rows:
        return 0, 0, 0, []
    project = lock_project(job.project)
    by_ext, _plain, repeated = _latest_per_id(rows)
    existing = {
        i.external_id: i
        for i in BacklogItem.objects.filter(project=project, source=job.source, external_id__in=list(by_ext))
        .exclude(external_id="")
        .order_by()
    }
    skipped = repeated
    entries: list[tuple[str, int, dict[str, Any], Any]] = []
    for external_id, (line, row) in by_ext.items():
        fields = {k: row[k] for k in ITEM_FIELDS}
        item = existing.get(external_id)
        if item is None:
            fields.update(source=job.source, external_id=external_id)
            if row.get("created"):
                fields["created_at"] = row["created"]
            if row.get("resolved"):
                fields["done_at"] = row["resolved"]
            entries.append(("create", line, fields, None))
        elif item.deleted_at is not None:
            skipped += 1  # deleted in Loopwise: an import does not bring it back
        else:
            if row.get("resolved"):
                fields["done_at"] = row["resolved"]
            entries.append(("update", line, fields, item.pk))

    def write(excluded: set[int]) -> list[Any]:
        creates = [(i, f) for i, (kind, _, f, _) in enumerate(entries) if kind == "create" and i not in excluded]
        updates = [
            Update(i, pk, f) for i, (kind, _, f, pk) in enumerate(entries) if kind == "update" and i not in excluded
        ]
        return items_write(project=project, actor=job.created_by, creates=creates, updates=updates)

    written, errors = _write_reporting(write, [line for _, line, _, _ in entries])
    created = sum(1 for w in written if w.outcome == "created")
    updated = sum(1 for w in written if w.outcome == "updated")
    skipped += sum(1 for w in written if w.outcome == "unchanged")
    return created, updated, skipped, errors
