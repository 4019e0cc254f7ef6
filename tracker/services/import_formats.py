"""Reading import files: format detection, header aliases, and streaming record readers.

Everything here reads from a binary stream in bounded pieces, so a file of a million rows
is read with constant memory.
"""

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from tracker.models import ImportFormat, ImportKind
from tracker.services.errors import ValidationError

HEAD_BYTES = 1024 * 1024
csv.field_size_limit(16 * 1024 * 1024)

# Field → header aliases in order of preference (headers are compared lower-cased, with
# spaces, dashes and dots as underscores).
FEEDBACK_ALIASES: dict[str, tuple[str, ...]] = {
    "body": ("body", "text", "comment", "comments", "review", "feedback", "message", "content", "verbatim"),
    "title": ("title", "subject", "summary", "headline"),
    "email": ("email", "e_mail", "customer_email", "email_address", "mail"),
    "customer_name": ("customer", "customer_name", "name", "author", "user_name", "username"),
    "customer_external_id": ("customer_id", "customer_external_id", "user_id", "account_id"),
    "nps": ("nps", "score", "nps_score"),
    "csat": ("csat", "satisfaction", "rating", "stars"),
    "ces": ("ces", "effort", "customer_effort"),
    "received_at": ("received_at", "date", "created_at", "created", "timestamp", "submitted_at", "time"),
    "channel": ("channel",),
    "external_id": ("external_id", "review_id", "reviewid", "ticket_id", "id", "uuid"),
    "tags": ("tags", "label", "labels", "categories", "category"),
}
BACKLOG_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("issue_key", "issuekey", "key", "number", "external_id", "id"),
    "title": ("summary", "title"),
    "description": ("description", "body"),
    "estimate": (
        "story_points",
        "storypoint",
        "storypoints",
        "story_point",
        "custom_field_(story_points)",
        "estimate",
        "points",
    ),
    "status": ("status", "state"),
    "state_reason": ("state_reason",),
    "kind": ("issue_type", "issuetype", "type", "kind"),
    "sprint": ("sprint",),
    "created": ("created", "created_at"),
    "labels": ("labels",),
    "pull_request": ("pull_request",),
}
REQUIRED = {ImportKind.FEEDBACK: "body", ImportKind.BACKLOG: "title"}


class RowError(Exception):
    """A record that cannot be imported; the message is the reason shown in the report."""


def normalize_header(name: Any) -> str:
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower())


def column_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{field: original header}; each header used once, the most specific alias winning."""
    aliases = FEEDBACK_ALIASES if kind == ImportKind.FEEDBACK else BACKLOG_ALIASES
    by_norm = {}
    for header in headers:
        by_norm.setdefault(normalize_header(header), header)
    used: set[str] = set()
    mapping = {}
    for field, names in aliases.items():
        for alias in names:
            header = by_norm.get(alias)
            if header is not None and header not in used:
                mapping[field] = header
                used.add(header)
                break
    required = REQUIRED[ImportKind(kind)]
    if required not in mapping:
        found = ", ".join(str(h) for h in headers[:20]) or "none"
        wanted = ", ".join(aliases[required][:6])
        raise ValidationError(
            {"file": f"No usable columns: a {required} column is needed (one of {wanted}); found {found}."}
        )
    return mapping


def _decode_head(head: bytes) -> str:
    if b"\x00" in head[:8192]:
        raise ValidationError({"file": "This is not a CSV or JSON file (it looks binary)."})
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": "The file must be UTF-8 text (CSV or JSON)."}) from exc


def detect(kind: str, head: bytes, filename: str = "") -> tuple[str, dict[str, str], str]:
    """(format, mapping, delimiter) from the first bytes of an upload; ValidationError when
    the file is empty, not CSV/JSON, or has no usable columns."""
    text = _decode_head(head).lstrip()
    if not text:
        raise ValidationError({"file": "The file is empty."})
    if text[0] == "[":
        first = next(iter_json_array(io.StringIO(text), partial=True), None)
        if first is None:
            raise ValidationError({"file": "The JSON array holds no records."})
        if not isinstance(first, dict):
            raise ValidationError({"file": "The JSON array must hold objects (one per record)."})
        mapping = column_mapping(kind, list(first))
        is_github = kind == ImportKind.BACKLOG and "number" in first and ("html_url" in first or "state" in first)
        return (ImportFormat.GITHUB_JSON if is_github else ImportFormat.JSON), mapping, ""
    if text[0] == "{":
        line = text.split("\n", 1)[0]
        try:
            first = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                {"file": "A JSON file must be an array of objects or JSON Lines (one object per line)."}
            ) from exc
        if not isinstance(first, dict):
            raise ValidationError({"file": "Each JSON line must be an object."})
        return ImportFormat.JSONL, column_mapping(kind, list(first)), ""
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    if header_line.count(delimiter) == 0 and not filename.lower().endswith(".csv"):
        raise ValidationError({"file": "This is neither CSV (a header row with columns) nor JSON."})
    headers = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    mapping = column_mapping(kind, [h for h in headers if h.strip()])
    is_jira = (
        kind == ImportKind.BACKLOG and "external_id" in mapping and "issue" in normalize_header(mapping["external_id"])
    )
    return (ImportFormat.JIRA_CSV if is_jira else ImportFormat.CSV), mapping, delimiter


# --- Streaming readers ---------------------------------------------------------------------


def text_stream(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedReader(raw, buffer_size=256 * 1024), encoding="utf-8-sig", newline="")


def iter_json_array(stream: IO[str], *, partial: bool = False) -> Iterator[Any]:
    """The elements of a top-level JSON array, one at a time, reading 64 KiB at a time.

    A malformed element ends the stream with RowError (the rest cannot be re-synchronised).
    `partial` stops quietly at the end of a truncated buffer (for detection on a file's head).
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False
    started = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        chunk = stream.read(65536)
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    fill()
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            if buf[pos] == "," and not started:
                raise RowError("The file is not a JSON array.")
            pos += 1
        if pos >= len(buf):
            if eof or not fill():
                if partial:
                    return
                raise RowError("The JSON array is not closed with ].")
            continue
        if not started:
            if buf[pos] != "[":
                raise RowError("The file is not a JSON array.")
            started = True
            pos += 1
            continue
        if buf[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not eof and fill():
                continue
            if partial:
                return
            raise RowError(f"Malformed JSON: {exc.msg}; the rest of the file was not read.") from exc
        if end >= len(buf) and not eof and not isinstance(value, dict | list):
            fill()  # a bare number could continue in the next chunk: decode it again
            continue
        yield value
        pos = end
        if pos > 1 << 20:
            buf = buf[pos:]
            pos = 0


Record = tuple[int, dict[str, Any] | None, str]  # (line, record or None, error reason)


def records(fmt: str, raw: IO[bytes], delimiter: str = ",") -> Iterator[Record]:
    """(line or record number, the record as {header: value}, error) for every record."""
    stream = text_stream(raw)
    if fmt in (ImportFormat.CSV, ImportFormat.JIRA_CSV):
        reader = csv.reader(stream, delimiter=delimiter or ",")
        headers = next(reader, [])
        seen: dict[str, int] = {}
        for index, header in enumerate(headers):
            seen.setdefault(header, index)  # Jira repeats some headers; the first one counts
        last = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield last + 1, None, f"Unreadable CSV: {exc}"
                last = reader.line_num
                continue
            line = last + 1
            last = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(headers):
                yield line, None, f"{len(row)} columns where the header has {len(headers)}"
                continue
            yield line, {h: row[i] if i < len(row) else "" for h, i in seen.items()}, ""
    elif fmt == ImportFormat.JSONL:
        for line_no, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_no, None, f"Malformed JSON: {exc.msg}"
                continue
            if not isinstance(value, dict):
                yield line_no, None, "Each line must be a JSON object"
                continue
            yield line_no, value, ""
    else:
        number = 0
        try:
            for value in iter_json_array(stream):
                number += 1
                if not isinstance(value, dict):
                    yield number, None, "Each record must be a JSON object"
                    continue
                yield number, value, ""
        except RowError as exc:
            yield number + 1, None, str(exc)


def getter(mapping: dict[str, str], *, kind: str = "", fmt: str = "") -> Callable[[dict[str, Any], str], Any]:
    """A function (record, field) → value. CSV columns are fixed by the header; JSON
    records may each carry different keys, so there each record is looked up by alias."""
    if fmt in (ImportFormat.JSON, ImportFormat.JSONL, ImportFormat.GITHUB_JSON):
        aliases = FEEDBACK_ALIASES if kind == ImportKind.FEEDBACK else BACKLOG_ALIASES

        def get_json(record: dict[str, Any], field: str) -> Any:
            keys = {normalize_header(k): k for k in record}
            for alias in aliases.get(field, ()):
                if alias in keys:
                    value = record[keys[alias]]
                    return value.strip() if isinstance(value, str) else value
            return None

        return get_json

    def get(record: dict[str, Any], field: str) -> Any:
        header = mapping.get(field)
        if header is None:
            return None
        value = record.get(header)
        return value.strip() if isinstance(value, str) else value

    return get
