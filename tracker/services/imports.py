"""Imports: feedback (CSV, JSON, JSON Lines, app store reviews, support tickets) and
backlogs (Jira CSV and JSON, GitHub issues, Linear CSV, Trello boards).

Public API (the web and REST layers call these):

    import_start(*, workspace, actor, kind, filename, data, project=None, source="",
                 preview=False, statuses=None) -> ImportJob
        Check the file (text in a known encoding, CSV or JSON, size, usable columns), store
        it in the database in chunks (so a worker on any host can read it) and start the
        import after commit. With `preview`, read the whole file and stop: the job holds the
        preview (`import_preview`) until `import_confirm` starts it. Refused files raise
        ValidationError and write nothing.
    import_confirm(job, *, statuses=None) -> ImportJob
        Start a previewed import, with the user's status mapping.
    import_run(job_id) -> ImportJob
        What the worker runs: check the whole file first (a broken file writes nothing),
        then write it in batches, record progress and the report. Resumable: each batch
        commits with its checkpoint.
    import_status(job) -> dict
        Progress and report, JSON-ready.

Upserts match on (workspace, source, external id) for feedback and (project, source,
external id) for items, so importing a file again updates rows instead of doubling them
(feedback without an id gets a natural key, import_feedback.natural_key). Each batch is
written through the write core of its entity (services.import_write), like every other
door: customers are found or created by the one rule of services.customers, and the change
feed tells sync clients, webhooks and the similarity index.
"""

import io
import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError, connection, transaction
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
    ItemKind,
    ItemStatus,
    Project,
    Workspace,
)
from tracker.services.dispatch import BULK, dispatch
from tracker.services.errors import ValidationError
from tracker.services.import_backlog import (
    GENERIC_ALIASES,
    Issue,
    default_status,
    jira_json_records,
    kind_of,
    read_issue,
    status_key,
    trello_records,
)
from tracker.services.import_feedback import (
    NATURAL_KEY_PREFIX,
    clean_feedback,
    column_mapping,
    getter,
    required_missing,
)
from tracker.services.import_formats import (
    HEAD_BYTES,
    FileBroken,
    Record,
    detect,
    detect_encoding,
    iter_array_records,
    iter_csv,
    iter_jsonl,
    load_object,
    normalize_header,
)
from tracker.services.import_rows import RowInvalid, RowSkip
from tracker.services.import_write import BacklogContext, finish_backlog, prepare_sprints, write_feedback, write_items

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
DEFAULT_SOURCES = {
    ImportFormat.JIRA_CSV: "jira",
    ImportFormat.JIRA_JSON: "jira",
    ImportFormat.GITHUB_JSON: "github",
    ImportFormat.LINEAR_CSV: "linear",
    ImportFormat.TRELLO_JSON: "trello",
    ImportFormat.GOOGLE_PLAY: "google-play",
    ImportFormat.APP_STORE: "app-store",
    ImportFormat.TICKETS_CSV: "tickets",
}
STRICT_WIDTH = frozenset({ImportFormat.JIRA_CSV, ImportFormat.LINEAR_CSV, ImportFormat.TICKETS_CSV})
PREVIEW_PROBLEMS = 20
SPRINT_NAME = 120  # Sprint.name's length
MAX_STATUSES = 200  # distinct status names a preview lists (and a mapping may name)
BACKLOG_FORMATS = frozenset(
    {
        ImportFormat.CSV,
        ImportFormat.JSON,
        ImportFormat.JSONL,
        ImportFormat.JIRA_CSV,
        ImportFormat.JIRA_JSON,
        ImportFormat.GITHUB_JSON,
        ImportFormat.LINEAR_CSV,
        ImportFormat.TRELLO_JSON,
    }
)


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
    preview: bool = False,
    statuses: dict[str, str] | None = None,
) -> ImportJob:
    """Accept an upload and start (or, with `preview`, preview) its import. Raises
    ValidationError (writing nothing) when the file is empty, too large, not text, not
    CSV/JSON, or has no usable columns."""
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
    found = detect(kind, head, filename)
    columns: dict[str, str] = {}
    if kind == ImportKind.FEEDBACK:
        columns = column_mapping(found.format, found.headers or found.keys)
        missing = required_missing(found.format, found.container, columns, found.headers or found.keys)
        if missing:
            raise ValidationError({"file": missing})
    elif found.format not in BACKLOG_FORMATS:
        raise ValidationError({"file": "This looks like a feedback file; import it as feedback."})
    elif found.container == "csv" and not _has_title(found.headers):
        found_names = ", ".join(found.headers[:20]) or "none"
        raise ValidationError(
            {"file": f"No usable columns: a title column is needed (Summary or Title); found {found_names}."}
        )
    statuses = _clean_statuses(statuses)
    source = (source or DEFAULT_SOURCES.get(found.format, "import")).strip()[:40]
    with transaction.atomic():
        job = ImportJob.objects.create(
            workspace=workspace,
            project=project if kind == ImportKind.BACKLOG else None,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            kind=kind,
            format=found.format,
            source=source,
            filename=(filename or "upload")[:255],
            encoding=found.encoding,
            status=ImportStatus.PREVIEW if preview else ImportStatus.QUEUED,
            mapping={
                "columns": columns,
                "container": found.container,
                "delimiter": found.delimiter,
                "statuses": statuses,
            },
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
        job.rows_total = _estimate_rows(found.container, found.format, head, size)
        job.save(update_fields=["size", "rows_total"])
        if not preview:
            _launch(job)
        elif size <= settings.IMPORT_PREVIEW_INLINE_BYTES:
            _scan_into(job)  # answered with the preview
        else:
            _launch(job)  # a large file is read in the background; the job shows the preview then
    return job


def _has_title(headers: list[str]) -> bool:
    return bool({normalize_header(h) for h in headers} & set(GENERIC_ALIASES["title"]))


def _clean_statuses(statuses: dict[str, str] | None) -> dict[str, str]:
    if not statuses:
        return {}
    if not isinstance(statuses, dict):
        raise ValidationError({"statuses": "A mapping of the file's status names to Loopwise statuses."})
    bad = [f"{name!r} → {value!r}" for name, value in statuses.items() if value not in ItemStatus.values]
    if bad:
        raise ValidationError(
            {"statuses": f"Map each status to one of {', '.join(ItemStatus.values)}; not {', '.join(bad[:5])}."}
        )
    return {str(name)[:100]: value for name, value in list(statuses.items())[:500]}


def _estimate_rows(container: str, fmt: str, head: bytes, size: int) -> int | None:
    """How many records the file holds, from its first megabyte (the first pass counts them
    exactly): the progress bar has a length from the moment the upload is answered."""
    text = head.decode("latin-1")  # counting markers needs no real decoding
    if container == "csv":
        count = max(0, text.count("\n") - 1 + (0 if text.endswith("\n") else 1))
    elif container == "jsonl":
        count = sum(1 for line in text.splitlines() if line.strip())
    else:
        marker = {
            ImportFormat.GITHUB_JSON: '"number"',
            ImportFormat.JIRA_JSON: '"fields"',
            ImportFormat.TRELLO_JSON: '"idList"',
        }.get(fmt)
        if marker is None:
            first = re.search(r'[\[{\s]*\{\s*("[^"]+")\s*:', text)
            marker = first.group(1) if first else None
        count = text.count(marker) if marker else 0
    if not count:
        return None
    return count if size <= len(head) else round(count * size / max(1, len(head)))


def _launch(job: ImportJob) -> None:
    """After commit: on a worker (the `bulk` queue), or, without a broker, in a thread of
    this process, so the upload is answered at once and the job page shows progress."""
    if current_app.conf.task_always_eager and settings.IMPORT_THREAD_WHEN_EAGER:
        transaction.on_commit(lambda: _start_thread(job.pk))
    else:
        dispatch("tracker.import_run_task", job.pk, queue=BULK)  # import_run reads a preview's file


# Jobs this process runs in a thread (embedded mode), so a status read can tell a job whose
# thread died with an earlier process from one still running here.
_THREADS: set[str] = set()
_THREADS_LOCK = threading.Lock()
THREAD_RETRIES = 5


def _start_thread(job_id: Any) -> None:
    key = str(job_id)
    with _THREADS_LOCK:
        if key in _THREADS:
            return
        _THREADS.add(key)

    def run() -> None:
        try:
            for attempt in range(THREAD_RETRIES):
                try:
                    import_run(job_id)
                    return
                except (OperationalError, InterfaceError):
                    # SQLite busy with another writer, or the database restarting: the run
                    # resumes from its last committed batch, as a worker's retry would.
                    logger.warning("Import %s interrupted; retrying", job_id, exc_info=True)
                    connection.close()
                    time.sleep(2 * (attempt + 1))
            ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).update(
                status=ImportStatus.FAILED,
                finished_at=timezone.now(),
                message="The import stopped: the database stayed unavailable. Upload the file again.",
            )
        except Exception:  # the job records its failure; nothing here to re-raise into
            logger.exception("Import %s failed", job_id)
        finally:
            with _THREADS_LOCK:
                _THREADS.discard(key)
            connection.close()

    threading.Thread(target=run, name=f"import-{job_id}", daemon=True).start()


def import_revive(job: ImportJob) -> None:
    """Embedded mode: a queued or running job with no thread in this process lost it with an
    earlier process (a restart of `make run`); start it again, from its last batch."""
    reading = job.status == ImportStatus.PREVIEW and "scan" not in job.mapping
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING) and not reading:
        return
    if not (current_app.conf.task_always_eager and settings.IMPORT_THREAD_WHEN_EAGER):
        return
    with _THREADS_LOCK:
        alive = str(job.pk) in _THREADS
    if not alive:
        logger.warning("Import %s has no thread in this process; resuming it", job.pk)
        _start_thread(job.pk)


def import_confirm(job: ImportJob, *, statuses: dict[str, str] | None = None) -> ImportJob:
    """Start a previewed import (with the user's status mapping)."""
    statuses = _clean_statuses(statuses)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None:
            raise ValidationError({"status": "This import was discarded meanwhile; upload the file again."})
        if locked.status != ImportStatus.PREVIEW:
            raise ValidationError({"status": f"This import is {locked.get_status_display().lower()}, not a preview."})
        if "scan" not in locked.mapping:
            raise ValidationError({"status": "Loopwise is still reading the file; start it once the preview shows."})
        if (locked.mapping.get("scan") or {}).get("broken"):
            raise ValidationError({"file": "The file is broken; upload a complete one."})
        locked.mapping = {**locked.mapping, "statuses": {**locked.mapping.get("statuses", {}), **statuses}}
        locked.status = ImportStatus.QUEUED
        locked.save(update_fields=["mapping", "status"])
        _launch(locked)
    return locked


def import_discard(job: ImportJob) -> bool:
    """Delete a job that never started (a preview, or a file found broken in its preview)
    with its stored file. False when it started meanwhile: the row lock orders this against
    an import_confirm of the same job, which locks the row too."""
    with transaction.atomic():
        locked = (
            ImportJob.objects.select_for_update()
            .filter(pk=job.pk, status__in=[ImportStatus.PREVIEW, ImportStatus.FAILED], started_at__isnull=True)
            .first()
        )
        if locked is None:
            return False
        locked.delete()
    return True


def import_previews_cleanup(*, hours: int | None = None) -> int:
    """Delete previews nobody started or cancelled (and files found broken in theirs) after
    IMPORT_PREVIEW_TTL_HOURS, with their stored files. Returns how many jobs went."""
    hours = settings.IMPORT_PREVIEW_TTL_HOURS if hours is None else hours
    stale = ImportJob.objects.filter(
        status__in=[ImportStatus.PREVIEW, ImportStatus.FAILED],
        started_at__isnull=True,
        created_at__lt=timezone.now() - timedelta(hours=hours),
    )
    ImportChunk.objects.filter(job__in=stale).delete()
    deleted, _ = stale.delete()
    return deleted


def import_status(job: ImportJob) -> dict[str, Any]:
    job.refresh_from_db()
    import_revive(job)
    return job_report(job)


def job_report(job: ImportJob) -> dict[str, Any]:
    """Progress and report of a job row already loaded."""
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "format": job.format,
        "filename": job.filename,
        "encoding": job.encoding,
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_estimated": "scan" not in job.mapping and job.rows_total is not None,
        "rows_done": job.rows_done,
        "progress": job.progress,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "error_count": job.error_count,
        "errors": job.errors,
        "message": job.message,
        "preview": import_preview(job),
        "reading": job.status == ImportStatus.PREVIEW and "scan" not in job.mapping,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


# --- Reading -------------------------------------------------------------------------------


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


def _records(job: ImportJob) -> Iterator[Record]:
    raw = ChunkReader(job.pk)
    container = job.mapping.get("container") or _legacy_container(job.format)
    if container == "csv":
        return iter_csv(
            raw,
            encoding=job.encoding,
            delimiter=job.mapping.get("delimiter") or ",",
            strict_width=job.format in STRICT_WIDTH,
        )
    if container == "jsonl":
        return iter_jsonl(raw, encoding=job.encoding)
    if container == "object":
        documents = load_object(raw, job.encoding)
        return trello_records(documents) if job.format == ImportFormat.TRELLO_JSON else jira_json_records(documents)
    if job.format == ImportFormat.JIRA_JSON:
        return _jira_array(iter_array_records(raw, encoding=job.encoding))
    return iter_array_records(raw, encoding=job.encoding)


def _jira_array(records: Iterator[Record]) -> Iterator[Record]:
    """A plain array of Jira issues (REST `issues` pasted on their own), record by record."""
    for number, record, error in records:
        if record is None:
            yield number, None, error
        else:
            for _, issue, issue_error in jira_json_records([[record]]):
                yield number, issue, issue_error


def _legacy_container(fmt: str) -> str:
    return {ImportFormat.JSONL: "jsonl", ImportFormat.JSON: "array", ImportFormat.GITHUB_JSON: "array"}.get(fmt, "csv")


SKIPPED = object()


def _rows(job: ImportJob, only: Any = None) -> Iterator[tuple[int, Any, str]]:
    """(line, cleaned row — an Issue or feedback fields — or None or SKIPPED, reason).
    `only(index)`: the records to clean (the others are passed over unread)."""
    if job.kind == ImportKind.FEEDBACK:
        get = getter(job.format, job.mapping.get("container") or _legacy_container(job.format), job.mapping["columns"])
        # Two records without ids that say the same thing on the same day ("Great app")
        # are two reviews: the second gets "-2" on its natural key, in file order, so a
        # re-import of the file finds each again.
        occurrences: dict[str, int] = {}

        def clean(record: dict[str, Any]) -> Any:
            row = clean_feedback(record, get, job.format)
            key = row["external_id"]
            if key.startswith(NATURAL_KEY_PREFIX):
                seen = occurrences.get(key, 0) + 1
                occurrences[key] = seen
                if seen > 1:
                    row["external_id"] = f"{key}-{seen}"
            return row
    else:

        def clean(record: dict[str, Any]) -> Any:
            return read_issue(job.format, record)

    for index, (line, record, error) in enumerate(_records(job)):
        if only is not None and not only(index):
            continue
        if record is None:
            yield line, None, error
            continue
        try:
            yield line, clean(record), ""
        except RowSkip as exc:
            yield line, SKIPPED, str(exc)
        except RowInvalid as exc:
            yield line, None, str(exc)


def _issues(job: ImportJob) -> Iterator[tuple[int, Issue]]:
    for line, row, _ in _rows(job):
        if isinstance(row, Issue):
            yield line, row


def _tier(issue: Issue) -> int:
    kind = kind_of(issue)
    return 0 if kind == ItemKind.EPIC else 2 if issue.subtask or issue.parent else 1


def _tiered(job: ImportJob, ctx: BacklogContext) -> Iterator[tuple[int, Any, str]]:
    """The rows in the order that lets most references resolve as their item is written:
    epics, then the other issues, then sub-tasks (the file is read three times). The first
    reading also collects Jira's numeric ids and the rank of every issue."""
    tiers = bytearray()  # each record's tier, from the first reading (1 for bad and skipped rows)
    order: list[str] = []  # without a rank in the file, the file's order is the backlog's
    for line, row, error in _rows(job):
        if isinstance(row, Issue):
            if row.alt_id:
                ctx.alt[row.alt_id] = row.external_id
            if row.rank:
                ctx.ranks.append((row.rank, row.external_id))
            else:
                order.append(row.external_id)
            tiers.append(_tier(row))
            if tiers[-1] == 0:
                yield line, row, error
        else:
            tiers.append(1)
    if not ctx.ranks and (0 in tiers or 2 in tiers) and (1 in tiers or 2 in tiers):
        # Written tier by tier, the items are out of file order: put them back in it.
        ctx.ranks = [(f"{index:012d}", ext) for index, ext in enumerate(order)]
        ctx.arrange_created_only = True  # what the team ordered in Loopwise since stays
    for tier in (1, 2):
        # Only this tier's records are cleaned again (bad and skipped rows are reported in
        # file order, with the issues of tier 1).
        yield from _rows(job, only=lambda index, tier=tier: index < len(tiers) and tiers[index] == tier)


def _all_references(job: ImportJob) -> list[tuple[int, str, str, str]]:
    return [(line, i.external_id, i.parent, i.epic) for line, i in _issues(job) if i.parent or i.epic]


# --- The first pass: check the whole file, collect what needs every row ---------------------


def _scan(job: ImportJob, *, full: bool = True) -> dict[str, Any]:
    """Read the whole file once without writing: count, check, and collect statuses,
    sprints, people and the rows that exist already. FileBroken when it cannot be read.
    Not `full` (a feedback file imported without a preview): only read and count it, which
    is what keeps a broken file from writing anything."""
    scan: dict[str, Any] = {"rows": 0}
    if not full:
        for _ in _records(job):
            scan["rows"] += 1
        return scan
    scan.update(
        {
            "valid": 0,
            "skipped": 0,
            "invalid": 0,
            "existing": 0,
            "problems": [],
            "statuses": {},
            "sprints": {},
            "people": {},
            "with_parent": 0,
            "comments": 0,
            "assignees": 0,
        }
    )
    keys: list[str] = []
    for line, row, error in _rows(job):
        scan["rows"] += 1
        if row is SKIPPED:
            scan["skipped"] += 1
            continue
        if row is None:
            scan["invalid"] += 1
            if len(scan["problems"]) < PREVIEW_PROBLEMS:
                scan["problems"].append({"line": line, "reason": error})
            continue
        scan["valid"] += 1
        if isinstance(row, Issue):
            _scan_issue(scan, row)
            keys.append(row.external_id)
        else:
            keys.append(row["external_id"])
        if len(keys) >= 2000:
            scan["existing"] += _existing(job, keys)
            keys = []
    if keys:
        scan["existing"] += _existing(job, keys)
    _order_sprints(scan["sprints"])
    for entry in scan["statuses"].values():
        entry["default"] = default_status(entry["name"], entry["category"])
    return scan


def _scan_issue(scan: dict[str, Any], issue: Issue) -> None:
    key = name = status_key(issue.status, issue.category)
    if key not in scan["statuses"] and len(scan["statuses"]) >= MAX_STATUSES:
        key = name = status_key("", issue.category)  # a file with endless status names: the rest by category
    entry = scan["statuses"].setdefault(key, {"name": name, "category": issue.category, "count": 0})
    entry["count"] += 1
    scan["people"].update(issue.people)
    scan["with_parent"] += bool(issue.parent or issue.epic)
    scan["comments"] += len(issue.comments)
    scan["assignees"] += bool(issue.assignee)
    last = len(issue.sprints) - 1
    for index, ref in enumerate(issue.sprints):
        if not ref.name:
            continue
        summary = scan["sprints"].setdefault(ref.name[:SPRINT_NAME], {"items": 0, "carried": False})
        summary["items"] += 1
        if index < last:
            summary["carried"] = True  # the issue went on to a later sprint: this one ended
        for name in ("state", "start", "end", "closed"):
            value = getattr(ref, name)
            if value and not summary.get(name):
                summary[name] = value.isoformat() if hasattr(value, "isoformat") else value
        if issue.created:
            created = issue.created.isoformat()
            summary["min_created"] = min(summary.get("min_created", created), created)
        if issue.resolved:
            resolved = issue.resolved.isoformat()
            summary["max_resolved"] = max(summary.get("max_resolved", resolved), resolved)


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _order_sprints(sprints: dict[str, Any]) -> None:
    """Number the sprints in the order they ran: by start where known, else by name
    (Sprint 2 before Sprint 10)."""
    ordered = sorted(sprints, key=lambda n: (not sprints[n].get("start"), sprints[n].get("start") or "", _natural(n)))
    for order, name in enumerate(ordered):
        sprints[name]["order"] = order
    items = sorted(sprints.items(), key=lambda kv: kv[1]["order"])
    sprints.clear()
    sprints.update(items)


def _existing(job: ImportJob, keys: list[str]) -> int:
    keys = [k for k in set(keys) if k]
    if not keys:
        return 0
    if job.kind == ImportKind.FEEDBACK:
        rows = Feedback.objects.filter(workspace_id=job.workspace_id, source=job.source, external_id__in=keys)
    else:
        rows = BacklogItem.objects.filter(project_id=job.project_id, source=job.source, external_id__in=keys)
    return rows.exclude(external_id="").order_by().count()


def _redetect_encoding(job: ImportJob, exc: FileBroken) -> bool:
    """A file taken as UTF-8 from its first megabyte (plain ASCII there) that has other bytes
    further on, as Excel writes accented text late in a long file: detect the encoding again
    from the piece where UTF-8 broke. True when another encoding was found (and kept)."""
    if job.encoding not in ("utf-8", "utf-8-sig") or exc.byte is None or "not valid" not in exc.reason:
        return False
    seq = 0 if exc.byte < HEAD_BYTES else 1 + (exc.byte - HEAD_BYTES) // CHUNK_BYTES
    piece = ImportChunk.objects.filter(job=job, seq=seq).values_list("data", flat=True).first()
    if piece is None:
        return False
    start = 0 if seq == 0 else HEAD_BYTES + (seq - 1) * CHUNK_BYTES
    offset = exc.byte - start
    window = bytes(piece)[max(0, offset - 2048) : offset + 8192]  # the text around the break
    try:
        encoding = detect_encoding(window)
    except ValidationError:
        return False
    if encoding == "ascii":
        return False
    if encoding in ("utf-8", "utf-8-sig", job.encoding):
        return False
    logger.info("Import %s: not UTF-8 after all; reading it as %s", job.pk, encoding)
    job.encoding = encoding
    job.save(update_fields=["encoding"])
    return True


def _scan_into(job: ImportJob, *, full: bool = True) -> bool:
    """Run the first pass and keep its result on the job. False (and the job failed, with
    where the file broke) when the file is broken."""
    try:
        try:
            scan = _scan(job, full=full)
        except FileBroken as exc:
            if not _redetect_encoding(job, exc):
                raise
            scan = _scan(job, full=full)  # read again in the encoding the rest of the file has
    except FileBroken as exc:
        message = f"{exc}. Nothing was imported."
        job.mapping = {**job.mapping, "scan": {"broken": {"reason": exc.reason, "line": exc.line, "byte": exc.byte}}}
        job.status = ImportStatus.FAILED
        job.message = message
        job.finished_at = timezone.now()
        job.save(update_fields=["mapping", "status", "message", "finished_at"])
        ImportChunk.objects.filter(job=job).delete()  # a broken file is of no further use
        return False
    job.mapping = {**job.mapping, "scan": scan}
    job.rows_total = scan["rows"]
    job.save(update_fields=["mapping", "rows_total"])
    return True


def import_preview(job: ImportJob) -> dict[str, Any] | None:
    """What the import will do, from the first pass: format, encoding, columns, counts of
    creates and updates, statuses and their mapping, sprints, the first problems."""
    scan = job.mapping.get("scan")
    if not scan or "valid" not in scan and not scan.get("broken"):
        return None
    if scan.get("broken"):
        return {"broken": scan["broken"], "format": job.format, "encoding": job.encoding}
    overrides = job.mapping.get("statuses") or {}
    statuses = [
        {
            "name": key,
            "category": entry["category"],
            "count": entry["count"],
            "status": overrides.get(key, entry["default"]),
            "default": entry["default"],
        }
        for key, entry in sorted(scan["statuses"].items(), key=lambda kv: -kv[1]["count"])
    ]
    return {
        "format": job.format,
        "format_label": ImportFormat(job.format).label,
        "encoding": job.encoding,
        "columns": job.mapping.get("columns") or {},
        "rows": scan["rows"],
        "creates": max(0, scan["valid"] - scan["existing"]),
        "updates": scan["existing"],
        "skipped": scan["skipped"],
        "invalid": scan["invalid"],
        "problems": scan["problems"],
        "statuses": statuses,
        "sprints": [
            {"name": name, "items": s["items"], "state": s.get("state", "")} for name, s in scan["sprints"].items()
        ],
        "with_parent": scan["with_parent"],
        "comments": scan["comments"],
        "assignees": scan["assignees"],
    }


# --- Running -------------------------------------------------------------------------------


class Batch:
    def __init__(self) -> None:
        self.rows: list[tuple[int, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.skipped = 0
        self.seen = 0


def import_run(job_id: Any) -> ImportJob:
    """Import the job's file (or continue after its last committed batch); for a preview
    whose file was too large to read while the upload waited, read it (import_confirm then
    starts the import)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return job or ImportJob(pk=job_id, status=ImportStatus.FAILED)
    if job.status == ImportStatus.PREVIEW:
        if "scan" not in job.mapping:
            _scan_into(job)
        return job
    ImportJob.objects.filter(pk=job.pk, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).update(
        status=ImportStatus.RUNNING, started_at=job.started_at or timezone.now()
    )
    try:
        job.refresh_from_db()
        if "scan" not in job.mapping and not _scan_into(job, full=job.kind == ImportKind.BACKLOG):
            return job
        resume_after = job.rows_done
        backlog = job.kind == ImportKind.BACKLOG
        ctx = None
        if backlog:
            if resume_after == 0:
                with transaction.atomic():
                    prepare_sprints(job)
            ctx = BacklogContext.load(job)
        batch = Batch()
        size = settings.IMPORT_BATCH_SIZE
        analyze_at = max(ANALYZE_FROM_ROWS, 2 * resume_after)
        rows = _tiered(job, ctx) if ctx is not None else _rows(job)
        for index, (line, row, error) in enumerate(rows):
            if index < resume_after:
                continue  # committed by an earlier run of this job
            batch.seen += 1
            if row is SKIPPED:
                batch.skipped += 1
                logger.debug("line %s skipped: %s", line, error)
            elif row is None:
                batch.errors.append({"line": line, "reason": error})
            else:
                batch.rows.append((line, row))
            if batch.seen >= size:
                if not _commit_batch(job, batch, ctx):
                    return ImportJob.objects.get(pk=job.pk)
                batch = Batch()
                if job.rows_done >= analyze_at:
                    _refresh_lookup_statistics(job)
                    analyze_at = 2 * job.rows_done
        if batch.seen and not _commit_batch(job, batch, ctx):
            return ImportJob.objects.get(pk=job.pk)
        if ctx is not None:
            # A resumed run did not see the references of the batches before it: check all.
            refs = ctx.deferred if resume_after == 0 else _all_references(job)
            with transaction.atomic():
                problems = finish_backlog(job, ctx, refs)
            if problems:
                _record_problems(job, problems)
    except (OperationalError, InterfaceError):
        raise  # temporary: the task retries and resumes from the checkpoint
    except FileBroken as exc:  # the file changed under us (it cannot), or a chunk is missing
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), message=f"The import stopped: {exc}"[:2000]
        )
        return ImportJob.objects.get(pk=job.pk)
    except Exception as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), message=f"The import stopped: {exc}"[:2000]
        )
        raise
    job.refresh_from_db()
    job.status = ImportStatus.DONE
    job.finished_at = timezone.now()
    encoding = "" if job.encoding in ("utf-8", "utf-8-sig") else f" The file was read as {job.encoding}."
    rows = "row" if job.error_count == 1 else "rows"
    job.message = (
        f"{job.created} created, {job.updated} updated, {job.skipped} skipped, "
        f"{job.error_count} {rows} with errors.{encoding}"
    )
    job.save(update_fields=["status", "finished_at", "message"])
    ImportChunk.objects.filter(job=job).delete()  # the file has served its purpose
    return job


def _record_problems(job: ImportJob, problems: list[dict[str, Any]]) -> None:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        room = max(0, settings.IMPORT_MAX_REPORTED_ERRORS - len(locked.errors))
        locked.errors = locked.errors + problems[:room]
        locked.error_count += len(problems)
        locked.save(update_fields=["errors", "error_count"])


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


def _commit_batch(job: ImportJob, batch: Batch, ctx: BacklogContext | None) -> bool:
    """Write a batch and advance the checkpoint in one transaction. False when another run of
    this job has moved the checkpoint meanwhile (this run then stops)."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.rows_done != job.rows_done or locked.status != ImportStatus.RUNNING:
            logger.warning("Import %s advanced by another run; this run stops", job.pk)
            return False
        if ctx is None:
            created, updated, skipped, errors = write_feedback(locked, batch.rows)
        else:
            created, updated, skipped, errors = write_items(locked, batch.rows, ctx)
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


__all__ = [
    "import_confirm",
    "import_discard",
    "import_preview",
    "import_previews_cleanup",
    "import_revive",
    "import_run",
    "import_start",
    "import_status",
]
