"""Imports: feedback (CSV, JSON array, JSON Lines) and backlogs (Jira CSV, GitHub issues JSON).

Public API (the web and REST layers call these):

    import_start(*, workspace, actor, kind, filename, data, project=None, source="") -> ImportJob
        Check the file (CSV or JSON, size, usable columns), store it in the database in
        chunks (so a worker on any host can read it) and queue the import on the `bulk`
        queue after commit. Refused files raise ValidationError and write nothing.
    import_run(job_id) -> ImportJob
        What the worker runs: stream the stored file, write it in batches, record progress
        and the report. Resumable: each batch commits with its checkpoint.
    import_status(job) -> dict
        Progress and report, JSON-ready.

Upserts match on (workspace, source, external id) for feedback and (project, source,
external id) for items, so importing a file again updates rows instead of doubling them.
Each batch is written through the write core of its entity (services.import_write), like
every other door: customers are found or created by the one rule of services.customers,
and the change feed tells sync clients, webhooks and the similarity index.
"""

import io
import logging
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from tracker.dbstats import analyze_if_free
from tracker.models import (
    BacklogItem,
    Customer,
    Feedback,
    ImportChunk,
    ImportFormat,
    ImportJob,
    ImportKind,
    ImportStatus,
    Project,
    Workspace,
)
from tracker.services.dispatch import BULK, dispatch
from tracker.services.errors import ValidationError
from tracker.services.import_formats import HEAD_BYTES, detect, getter, records
from tracker.services.import_rows import RowInvalid, RowSkip, clean_feedback, clean_item
from tracker.services.import_write import write_feedback, write_items

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
DEFAULT_SOURCES = {
    ImportFormat.JIRA_CSV: "jira",
    ImportFormat.GITHUB_JSON: "github",
}


# --- Starting ------------------------------------------------------------------------------


def import_start(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    kind: str,
    filename: str,
    data: bytes | IO[bytes],
    project: Project | None = None,
    source: str = "",
) -> ImportJob:
    """Accept an upload and queue its import. Raises ValidationError (writing nothing) when
    the file is empty, too large, not CSV/JSON, or has no usable columns."""
    if kind not in ImportKind.values:
        raise ValidationError({"kind": f"Kind must be one of {', '.join(ImportKind.values)}."})
    if kind == ImportKind.BACKLOG:
        if project is None:
            raise ValidationError({"project": "Choose the project whose backlog to import into."})
        if project.workspace_id != workspace.pk:
            raise ValidationError({"project": "The project belongs to another workspace."})
    limit = settings.IMPORT_MAX_BYTES
    too_large = ValidationError({"file": f"The file is larger than the limit of {limit // (1024 * 1024)} MB."})
    stream: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    declared = getattr(stream, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise too_large
    head = stream.read(HEAD_BYTES)
    fmt, mapping, delimiter = detect(kind, head, filename)
    source = (source or DEFAULT_SOURCES.get(fmt, "import")).strip()[:40]
    with transaction.atomic():
        job = ImportJob.objects.create(
            workspace=workspace,
            project=project if kind == ImportKind.BACKLOG else None,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            kind=kind,
            format=fmt,
            source=source,
            filename=(filename or "upload")[:255],
            mapping={"columns": mapping, "delimiter": delimiter},
        )
        size = 0
        seq = 0
        piece = head
        while piece:
            size += len(piece)
            if size > limit:
                raise too_large  # rolls back the job and every chunk written so far
            ImportChunk.objects.create(job=job, seq=seq, data=piece)
            seq += 1
            piece = stream.read(CHUNK_BYTES)
        job.size = size
        job.save(update_fields=["size"])
        dispatch("tracker.import_run_task", job.pk, queue=BULK)
    return job


def import_status(job: ImportJob) -> dict[str, Any]:
    job.refresh_from_db()
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "format": job.format,
        "filename": job.filename,
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "progress": job.progress,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "error_count": job.error_count,
        "errors": job.errors,
        "message": job.message,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


# --- Running -------------------------------------------------------------------------------


class ChunkReader(io.RawIOBase):
    """A file-like view of a job's stored chunks, fetched one at a time (constant memory)."""

    def __init__(self, job_id: Any) -> None:
        self.job_id = job_id
        self.seq = 0
        self.buffer = b""
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if self.offset >= len(self.buffer):
            data = ImportChunk.objects.filter(job_id=self.job_id, seq=self.seq).values_list("data", flat=True).first()
            if data is None:
                return 0
            self.buffer, self.offset = bytes(data), 0
            self.seq += 1
        n = min(len(target), len(self.buffer) - self.offset)
        target[:n] = self.buffer[self.offset : self.offset + n]
        self.offset += n
        return n


def _records(job: ImportJob) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    return records(job.format, ChunkReader(job.pk), job.mapping.get("delimiter", ","))


class Batch:
    def __init__(self) -> None:
        self.rows: list[tuple[int, dict[str, Any]]] = []
        self.errors: list[dict[str, Any]] = []
        self.skipped = 0
        self.seen = 0


def import_run(job_id: Any) -> ImportJob:
    """Import the job's file (or continue after its last committed batch)."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return job
    ImportJob.objects.filter(pk=job.pk, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).update(
        status=ImportStatus.RUNNING, started_at=job.started_at or timezone.now()
    )
    try:
        if job.rows_total is None:
            total = sum(1 for _ in _records(job))
            ImportJob.objects.filter(pk=job.pk).update(rows_total=total)
        job.refresh_from_db()
        resume_after = job.rows_done
        write = write_feedback if job.kind == ImportKind.FEEDBACK else write_items
        get = getter(job.mapping["columns"], kind=job.kind, fmt=job.format)
        batch = Batch()
        size = settings.IMPORT_BATCH_SIZE
        analyze_at = max(ANALYZE_FROM_ROWS, 2 * resume_after)
        for index, (line, record, error) in enumerate(_records(job)):
            if index < resume_after:
                continue  # committed by an earlier run of this job
            batch.seen += 1
            if record is None:
                batch.errors.append({"line": line, "reason": error})
            else:
                try:
                    cleaned = (clean_feedback if job.kind == ImportKind.FEEDBACK else clean_item)(record, get)
                except RowSkip as exc:
                    batch.skipped += 1
                    logger.debug("line %s skipped: %s", line, exc)
                except RowInvalid as exc:
                    batch.errors.append({"line": line, "reason": str(exc)})
                else:
                    batch.rows.append((line, cleaned))
            if batch.seen >= size:
                if not _commit_batch(job, batch, write):
                    return ImportJob.objects.get(pk=job.pk)
                batch = Batch()
                if job.rows_done >= analyze_at:
                    _refresh_lookup_statistics(job)
                    analyze_at = 2 * job.rows_done
        if batch.seen and not _commit_batch(job, batch, write):
            return ImportJob.objects.get(pk=job.pk)
    except (OperationalError, InterfaceError):
        raise  # temporary: the task retries and resumes from the checkpoint
    except Exception as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), message=f"The import stopped: {exc}"[:2000]
        )
        raise
    job.refresh_from_db()
    job.status = ImportStatus.DONE
    job.finished_at = timezone.now()
    job.message = (
        f"{job.created} created, {job.updated} updated, {job.skipped} skipped, {job.error_count} rows with errors."
    )
    job.save(update_fields=["status", "finished_at", "message"])
    ImportChunk.objects.filter(job=job).delete()  # the file has served its purpose
    return job


# The rows imported so far when the statistics are first refreshed; then at every doubling.
ANALYZE_FROM_ROWS = 10_000


def _refresh_lookup_statistics(job: ImportJob) -> None:
    """ANALYZE the tables that each batch looks its rows up in, as the import grows them.

    Each batch finds existing rows by (workspace, source, external id). While the statistics
    still say the workspace has few rows, PostgreSQL reads all of the workspace's rows and
    filters them on the external id (one index probe per id looks dearer than that), so each
    batch reads every row imported before it: at 300,000 rows, 111 ms per batch instead of
    2.8 ms, and the import slowed from 4,000 to 3,200 rows/s; with this it stays at 4,300
    (docs/performance.md). Autovacuum re-analyzes a growing table too, but only after 10 % of
    it has changed, and not where it is off. At each doubling: a handful of sampled ANALYZEs
    per import, whatever its size.
    """
    models = (Feedback, Customer) if job.kind == ImportKind.FEEDBACK else (BacklogItem,)
    analyze_if_free(*(m._meta.db_table for m in models))


def _commit_batch(job: ImportJob, batch: Batch, write: Any) -> bool:
    """Write a batch and advance the checkpoint in one transaction. False when another run of
    this job has moved the checkpoint meanwhile (this run then stops)."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.rows_done != job.rows_done or locked.status != ImportStatus.RUNNING:
            logger.warning("Import %s advanced by another run; this run stops", job.pk)
            return False
        created, updated, skipped, errors = write(locked, batch.rows)
        all_errors = batch.errors + errors
        room = max(0, settings.IMPORT_MAX_REPORTED_ERRORS - len(locked.errors))
        locked.errors = locked.errors + sorted(all_errors, key=lambda e: e["line"])[:room]
        locked.rows_done += batch.seen
        locked.created += created
        locked.updated += updated
        locked.skipped += batch.skipped + skipped
        locked.error_count += len(all_errors)
        locked.save(update_fields=["errors", "rows_done", "created", "updated", "skipped", "error_count"])
    job.rows_done = locked.rows_done
    return True


__all__ = ["import_run", "import_start", "import_status"]
