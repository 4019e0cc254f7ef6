"""Reading import files: encodings, format detection and streaming record readers.

Everything here reads from a binary stream in bounded pieces, so a file of a million rows
is read with constant memory (the whole-object formats, a Jira search result or a Trello
board, are read at once up to OBJECT_MAX_BYTES).

A record the importer cannot use is reported with its line; a file that is broken as a
whole (cut off, malformed JSON, bytes that are not text in its encoding) raises FileBroken
with the line and byte where it broke, and the import then writes nothing.
"""

import codecs
import csv
import functools
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import charset_normalizer

from tracker.models import ImportFormat, ImportKind
from tracker.services.errors import ValidationError

HEAD_BYTES = 1024 * 1024
OBJECT_MAX_BYTES = 200 * 1024 * 1024
csv.field_size_limit(16 * 1024 * 1024)

CSV_FORMATS = frozenset({ImportFormat.CSV, ImportFormat.JIRA_CSV, ImportFormat.LINEAR_CSV, ImportFormat.TICKETS_CSV})
OBJECT_FORMATS = frozenset({ImportFormat.JIRA_JSON, ImportFormat.TRELLO_JSON})


class RowError(Exception):
    """A record that cannot be imported; the message is the reason shown in the report."""


class FileBroken(Exception):
    """The file cannot be read to its end; nothing of it may be written."""

    def __init__(self, reason: str, *, line: int | None = None, byte: int | None = None) -> None:
        self.reason = reason
        self.line = line
        self.byte = byte
        where = ", ".join(
            part for part in (f"line {line}" if line else "", f"byte {byte:,}" if byte is not None else "") if part
        )
        super().__init__(f"{reason} (at {where})" if where else reason)


@functools.lru_cache(maxsize=4096)
def normalize_header(name: Any) -> str:
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower())


# --- Encodings -----------------------------------------------------------------------------

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def detect_encoding(head: bytes) -> str:
    """The file's text encoding: UTF-8 (with or without BOM) or UTF-16 by their marks, else
    what charset-normalizer finds most likely (Excel on Windows saves cp1252 and friends)."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head[1:4:2] == b"\x00\x00" and head[0] and head[2]:
        return "utf-16-le"  # UTF-16 without a mark: every other byte of ASCII text is zero
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if b"\x00" in head[:8192]:
        raise ValidationError({"file": "This is not a CSV or JSON file (it looks binary)."})
    sample = head[:200_000]
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        raise ValidationError({"file": "The file is not text in any encoding Loopwise recognises."})
    name = codecs.lookup(best.encoding).name
    # Windows-1252 is what Excel writes on most Windows machines: where it reads the sample
    # as plausibly as the best guess ("Café crème" is Windows-1250 "Café crčme" too), or
    # the same, it is taken.
    if any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence for m in matches):
        return "cp1252"
    if name != "cp1252" and best.encoding.startswith(("cp125", "latin", "iso8859")):
        try:
            if sample.decode("cp1252") == sample.decode(name):
                return "cp1252"
        except UnicodeDecodeError:
            pass
    return name


def decode_head(head: bytes, encoding: str) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    return text.lstrip("\ufeff")


# --- Detection -----------------------------------------------------------------------------


@dataclass
class Detected:
    format: str
    encoding: str
    container: str = "csv"  # csv, array (one or more JSON arrays), jsonl, object (whole documents)
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def detect(kind: str, head: bytes, filename: str = "") -> Detected:
    """The file's format from its first bytes; ValidationError when it is empty, binary or
    neither CSV nor JSON. Which columns map to which field is the sources' business
    (import_backlog, import_feedback)."""
    if not head.strip():
        raise ValidationError({"file": "The file is empty."})
    encoding = detect_encoding(head)
    text = decode_head(head, encoding).lstrip()
    if not text:
        raise ValidationError({"file": "The file is empty."})
    backlog = kind == ImportKind.BACKLOG
    if text[0] == "[":
        first = next(iter_json_array(io.StringIO(text), partial=True), None)
        if (
            first is None
            and backlog
            and re.match(r'\[\s*\{\s*"(expand|startAt|maxResults|total|issues|isLast|nextPageToken)"', text)
        ):
            return Detected(ImportFormat.JIRA_JSON, encoding, "object")  # search pages larger than the head
        if first is None:
            raise ValidationError({"file": "The JSON array holds no records."})
        if not isinstance(first, dict):
            raise ValidationError({"file": "The JSON array must hold objects (one per record)."})
        keys = list(first)
        if backlog and "number" in first and ("html_url" in first or "state" in first):
            return Detected(ImportFormat.GITHUB_JSON, encoding, "array", keys=keys)
        if backlog and isinstance(first.get("issues"), list):
            return Detected(ImportFormat.JIRA_JSON, encoding, "object", keys=keys)  # search pages in an array
        if backlog and "key" in first and isinstance(first.get("fields"), dict):
            return Detected(ImportFormat.JIRA_JSON, encoding, "array", keys=keys)
        return Detected(ImportFormat.JSON if backlog else _feedback_json_format(first), encoding, "array", keys=keys)
    if text[0] == "{":
        try:
            first = json.loads(text.split("\n", 1)[0])
        except json.JSONDecodeError:
            first = None
        keys = list(first) if isinstance(first, dict) else []
        if backlog and ("issues" in keys or re.search(r'"issues"\s*:\s*\[', text)):
            return Detected(ImportFormat.JIRA_JSON, encoding, "object", keys=keys)
        if backlog and ({"cards", "lists"} <= set(keys) or re.search(r'"cards"\s*:\s*\[', text)):
            return Detected(ImportFormat.TRELLO_JSON, encoding, "object", keys=keys)
        if isinstance(first, dict) and backlog and "number" in first and ("html_url" in first or "state" in first):
            return Detected(ImportFormat.GITHUB_JSON, encoding, "jsonl", keys=keys)  # gh api --jq '.[]'
        if isinstance(first, dict):
            fmt = ImportFormat.JSON if backlog else _feedback_json_format(first)
            return Detected(ImportFormat.JSONL if fmt == ImportFormat.JSON else fmt, encoding, "jsonl", keys=keys)
        raise ValidationError(
            {"file": "A JSON file must be an array of objects, JSON Lines, a Jira search result or a Trello board."}
        )
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    if header_line.count(delimiter) == 0 and not filename.lower().endswith(".csv"):
        raise ValidationError({"file": "This is neither CSV (a header row with columns) nor JSON."})
    headers = [h.strip() for h in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]
    return Detected(_csv_format(kind, headers), encoding, "csv", delimiter, headers=headers)


def _csv_format(kind: str, headers: list[str]) -> str:
    names = {normalize_header(h) for h in headers}
    if kind == ImportKind.BACKLOG:
        if ("issue_key" in names or "issuekey" in names) and "summary" in names:
            return ImportFormat.JIRA_CSV
        if {"id", "title", "team"} <= names and ({"cycle_name", "cycle_number"} & names or "creator" in names):
            return ImportFormat.LINEAR_CSV
        return ImportFormat.CSV
    if {"star_rating", "review_text"} <= names or {"review_submit_date_and_time", "star_rating"} <= names:
        return ImportFormat.GOOGLE_PLAY  # the Play Console's review export
    if {"reviewid", "score", "content"} <= names:
        return ImportFormat.GOOGLE_PLAY  # google-play-scraper saved as CSV
    if {"rating", "review"} <= names or {"score", "text", "username", "title"} <= names:
        return ImportFormat.APP_STORE
    if ("requester" in names or "requester_email" in names) and ("subject" in names or "description" in names):
        return ImportFormat.TICKETS_CSV
    return ImportFormat.CSV


def _feedback_json_format(first: dict[str, Any]) -> str:
    keys = {normalize_header(k) for k in first}
    if "reviewid" in keys and "score" in keys and "content" in keys:
        return ImportFormat.GOOGLE_PLAY  # google-play-scraper
    if {"rating", "review"} <= keys or {"rating", "title", "username"} <= keys:
        return ImportFormat.APP_STORE  # app-store-scraper (Python)
    if {"score", "text", "username"} <= keys and ("userurl" in keys or "title" in keys):
        return ImportFormat.APP_STORE  # app-store-scraper (Node)
    return ImportFormat.JSON


# --- Streaming readers ---------------------------------------------------------------------


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary stream (for the byte offsets in error reports)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self.raw.read(len(target))
        if not data:
            return 0
        n = len(data)
        target[:n] = data
        self.count += n
        return n


def text_stream(raw: IO[bytes], encoding: str = "utf-8") -> io.TextIOWrapper:
    if encoding in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # tolerate a mark even where the head had none
    return io.TextIOWrapper(io.BufferedReader(raw, buffer_size=256 * 1024), encoding=encoding, newline="")


class _Lines:
    """Lines of a text stream with the byte offset of the current one (for error reports)."""

    def __init__(self, stream: IO[str], encoding: str) -> None:
        self.stream = stream
        self.encoding = "utf-16-le" if encoding.startswith("utf-16") else encoding
        self.byte = 0
        self.next_byte = 0
        self.line_no = 0
        self.ended_with_newline = True
        self.ascii = True

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        try:
            line = self.stream.readline()
        except UnicodeDecodeError as exc:
            raise FileBroken(
                f"The file is not valid {self.encoding} text", line=self.line_no + 1, byte=self.next_byte
            ) from exc
        if not line:
            raise StopIteration
        self.line_no += 1
        self.byte = self.next_byte
        self.next_byte += (
            len(line)
            if line.isascii() and self.encoding not in ("utf-16-le",)
            else len(line.encode(self.encoding, errors="replace"))
        )
        self.ended_with_newline = line.endswith(("\n", "\r"))
        return line


Record = tuple[int, dict[str, Any] | None, str]  # (line, record or None, error reason)


def iter_csv(raw: IO[bytes], *, encoding: str, delimiter: str, strict_width: bool) -> Iterator[Record]:
    """Records of a CSV file as {header: value}; a header that repeats (Jira's Labels,
    Sprint, Comment …) maps to the list of its non-empty values. A file that ends inside a
    quoted field, or whose last row is cut short, is broken (FileBroken)."""
    lines = _Lines(text_stream(raw, encoding), encoding)
    reader = csv.reader(lines, delimiter=delimiter or ",", strict=True)
    try:
        headers = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise FileBroken(f"The header row is unreadable: {exc}", line=1, byte=0) from exc
    positions: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header:
            positions.setdefault(header, []).append(index)
    single = {h: p[0] for h, p in positions.items() if len(p) == 1}
    repeated = {h: p for h, p in positions.items() if len(p) > 1}
    width = len(headers)
    last = reader.line_num
    pending: Record | None = None
    while True:
        start_byte = lines.next_byte
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise FileBroken(
                    "The file ends inside a quoted field: it was cut off", line=last + 1, byte=start_byte
                ) from exc
            if pending:
                yield pending[0], pending[1], ""
                pending = None
            yield last + 1, None, f"Unreadable CSV: {exc}"
            last = reader.line_num
            continue
        line = last + 1
        last = reader.line_num
        if pending:
            yield pending[0], pending[1], ""
            pending = None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > width:
            yield line, None, f"{len(row)} columns where the header has {width}"
            continue
        record: dict[str, Any] = {h: row[i] if i < len(row) else "" for h, i in single.items()}
        for header, indexes in repeated.items():
            record[header] = [row[i] for i in indexes if i < len(row) and row[i].strip()]
        # A short row is fine in a hand-made CSV, but the last row of a file cut off in the
        # middle is short too: hold each row until the next one arrives. (A full last row
        # without a line break is not taken as cut: spreadsheets save files that way.)
        pending = (line, record, f"{len(row)}:{start_byte}")
    if pending:
        line, record, marker = pending
        cells, byte = (int(part) for part in marker.split(":"))
        cut = not lines.ended_with_newline
        if cells < width and (strict_width or cut):
            raise FileBroken(f"The last row has {cells} of {width} columns: the file was cut off", line=line, byte=byte)
        yield line, record, ""


def iter_json_array(stream: IO[str], *, partial: bool = False, encoding: str = "utf-8") -> Iterator[Any]:
    """The elements of a top-level JSON array, one at a time, reading 64 KiB at a time.

    Arrays written one after another (`gh api --paginate` prints `[...][...]`) are read as
    one. A malformed or unfinished array raises FileBroken with the line and byte where it
    broke. `partial` stops quietly at the end of a cut buffer (detection reads only a head).
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False
    depth_started = False  # inside an array
    consumed_bytes = 0
    consumed_lines = 1
    byte_encoding = "utf-16-le" if encoding.startswith("utf-16") else encoding

    def drop() -> None:
        nonlocal buf, pos, consumed_bytes, consumed_lines
        gone = buf[:pos]
        consumed_bytes += len(gone.encode(byte_encoding, errors="replace"))
        consumed_lines += gone.count("\n")
        buf = buf[pos:]
        pos = 0

    def fill() -> bool:
        nonlocal buf, eof
        try:
            chunk = stream.read(65536)
        except UnicodeDecodeError as exc:
            where()
            raise FileBroken(
                f"The file is not valid {encoding} text", line=consumed_lines, byte=consumed_bytes
            ) from exc
        if not chunk:
            eof = True
            return False
        drop()
        buf += chunk
        return True

    def where() -> tuple[int, int]:
        drop()
        return consumed_lines, consumed_bytes

    def broken(reason: str) -> FileBroken:
        line, byte = where()
        return FileBroken(reason, line=line, byte=byte)

    fill()
    seen_array = False
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n\ufeff" + ("," if depth_started else ""):
            pos += 1
        if pos >= len(buf):
            if eof or not fill():
                if partial:
                    return
                if depth_started:
                    raise broken("The JSON array is not closed with ]: the file was cut off")
                if not seen_array:
                    raise broken("The file is not a JSON array")
                return
            continue
        if not depth_started:
            if buf[pos] != "[":
                if partial:
                    return
                raise broken("Unexpected text after the JSON array" if seen_array else "The file is not a JSON array")
            depth_started = True
            seen_array = True
            pos += 1
            continue
        if buf[pos] == "]":
            depth_started = False
            pos += 1
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not eof and fill():
                continue
            if partial:
                return
            pos = exc.pos
            raise broken(f"Malformed JSON ({exc.msg}): the file was cut off or damaged") from exc
        if end >= len(buf) and not eof and not isinstance(value, dict | list):
            fill()  # a bare number could continue in the next chunk: decode it again
            continue
        yield value
        pos = end
        if pos > 1 << 20:
            drop()


def load_object(raw: IO[bytes], encoding: str) -> Any:
    """A whole JSON document (Jira search results, a Trello board)."""
    data = raw.read(OBJECT_MAX_BYTES + 1)
    if len(data) > OBJECT_MAX_BYTES:
        raise FileBroken(f"A JSON document of this kind is read whole; keep it under {OBJECT_MAX_BYTES >> 20} MB")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileBroken(f"The file is not valid {encoding} text", byte=exc.start) from exc
    text = text.lstrip("\ufeff")
    decoder = json.JSONDecoder()
    documents = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            byte = len(text[: exc.pos].encode(encoding, errors="replace"))
            raise FileBroken(
                f"Malformed JSON ({exc.msg}): the file was cut off or damaged", line=exc.lineno, byte=byte
            ) from exc
        documents.append(value)
    if not documents:
        raise FileBroken("The file holds no JSON document")
    return documents


def iter_jsonl(raw: IO[bytes], *, encoding: str) -> Iterator[Record]:
    lines = _Lines(text_stream(raw, encoding), encoding)
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if not lines.ended_with_newline:
                raise FileBroken(
                    f"The last line is not complete JSON ({exc.msg}): the file was cut off",
                    line=lines.line_no,
                    byte=lines.byte,
                ) from exc
            yield lines.line_no, None, f"Malformed JSON: {exc.msg}"
            continue
        if not isinstance(value, dict):
            yield lines.line_no, None, "Each line must be a JSON object"
            continue
        yield lines.line_no, value, ""


def iter_array_records(raw: IO[bytes], *, encoding: str) -> Iterator[Record]:
    number = 0
    for value in iter_json_array(text_stream(raw, encoding), encoding=encoding):
        number += 1
        if not isinstance(value, dict):
            yield number, None, "Each record must be a JSON object"
            continue
        yield number, value, ""
