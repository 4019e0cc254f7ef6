"""Cleaning import rows: one record of a file → the fields Loopwise stores, or the reason
it cannot be imported (RowInvalid, reported with its line) or is left out (RowSkip)."""

import re
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tracker.models import Channel, ItemKind, ItemStatus
from tracker.services.errors import ValidationError
from tracker.services.feedback import CHANNELS, SCORE_RANGES


class RowInvalid(Exception):
    pass


class RowSkip(Exception):
    pass


# --- Cleaning ------------------------------------------------------------------------------

DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y %H:%M",
    "%d.%m.%y",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%y %H:%M",
    "%m/%d/%y",
)

# Month abbreviations as Jira writes them in its CSV dates (`dd/MMM/yy h:mm a`) in the
# languages of its user interface; lower-cased, without the trailing dot.
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan janv jän ene gen",
            "feb févr fév fevr fev",
            "mar mär mars märz marz mrt",
            "apr avr abr",
            "may mai mag mei maj",
            "jun juin giu",
            "jul juil lug",
            "aug août aout ago",
            "sep sept set",
            "oct okt ott out",
            "nov",
            "dec déc dez dic",
        ),
        start=1,
    )
    for name in names.split()
}
JIRA_DATE = re.compile(
    r"^(\d{1,2})[/. -]([^\W\d_]+)\.?[/. -](\d{2}|\d{4})"
    r"(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])?\.?\s*[Mm]?\.?)?\s*$"
)
# JavaScript's Date.toString(), as some exports print it: "Tue Jan 30 2024 10:05:44 GMT+0100 (…)"
JS_DATE = re.compile(r"^\w{3} (\w{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-]\d{4})")


def _jira_date(text: str) -> datetime | None:
    match = JIRA_DATE.match(text)
    if not match:
        return None
    day, month_name, year, hour, minute, second, meridiem = match.groups()
    month = (
        MONTHS.get(month_name.lower()[:5]) or MONTHS.get(month_name.lower()[:4]) or MONTHS.get(month_name.lower()[:3])
    )
    if month is None:
        return None
    year_number = int(year) + (2000 if len(year) == 2 else 0)
    hours = int(hour or 0)
    if meridiem:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if meridiem.lower() == "p" else 0)
    try:
        return datetime(year_number, month, int(day), hours, int(minute or 0), int(second or 0), tzinfo=UTC)
    except ValueError:
        return None


def _js_date(text: str) -> datetime | None:
    match = JS_DATE.match(text)
    if not match:
        return None
    month_name, day, year, hour, minute, second, offset = match.groups()
    month = MONTHS.get(month_name.lower())
    if month is None:
        return None
    sign = 1 if offset[0] == "+" else -1
    zone = dt_timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=zone)


def parse_when(value: Any) -> datetime | None:
    """A date from an import: ISO 8601, Jira's `dd/MMM/yy h:mm a` in its languages, US and
    European numeric dates, JavaScript's date strings, Unix seconds or milliseconds.
    Dates without a zone are taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise RowInvalid(f"Unreadable date {value!r}") from None
    text = str(value).strip()
    if text.isdigit() and len(text) >= 9:
        return parse_when(int(text))
    parsed = None
    if text[:4].isdigit():
        try:
            parsed = parse_datetime(text.replace(" UTC", "Z").replace("+0000", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is None:
            parsed = _iso_compact(text)
        if parsed is None:
            try:
                day = parse_date(text)
            except ValueError:
                day = None
            if day is not None:
                parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if parsed is None:
        parsed = _jira_date(text) or _js_date(text)
    if parsed is None:
        for fmt in DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware below
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowInvalid(f"Unreadable date {text[:40]!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _iso_compact(text: str) -> datetime | None:
    """Jira's REST dates: 2025-09-22T09:26:00.000+0200 (an offset without a colon)."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _score(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    low, high = SCORE_RANGES[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowInvalid(f"{name.upper()} {str(value)[:20]!r} is not a number") from None
    if not number.is_integer() or not low <= number <= high:
        raise RowInvalid(f"{name.upper()} must be a whole number from {low} to {high}, not {value}")
    return int(number)


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",")
    elif isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, list) and part:
                parts.append(str(part[-1]))  # labelled spans: [start, end, category]
            elif isinstance(part, dict):
                parts.append(str(part.get("name", "")))
            else:
                parts.append(str(part))
    else:
        parts = [str(value)]
    return sorted({p.strip()[:40] for p in parts if p and p.strip()})


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def clean_feedback(record: dict[str, Any], get: Any) -> dict[str, Any]:
    body = _text(get(record, "body")).strip()
    if not body:
        raise RowInvalid("The text is empty")
    if len(body) > 20000:
        raise RowInvalid("The text is longer than 20,000 characters")
    email = _text(get(record, "email")).strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise RowInvalid(f"{email[:60]!r} is not an e-mail address") from None
    channel = _text(get(record, "channel")).strip().lower().replace(" ", "_")
    return {
        "body": body,
        "title": _text(get(record, "title"))[:200],
        "email": email,
        "customer_name": _text(get(record, "customer_name"))[:200],
        "customer_external_id": _text(get(record, "customer_external_id"))[:200],
        "nps": _score("nps", get(record, "nps")),
        "csat": _score("csat", get(record, "csat")),
        "ces": _score("ces", get(record, "ces")),
        "received_at": parse_when(get(record, "received_at")),
        "channel": channel if channel in CHANNELS else Channel.IMPORT,
        "external_id": _text(get(record, "external_id"))[:200],
        "tags": _tags(get(record, "tags")),
    }


STATUS_MAP = {
    "open": ItemStatus.BACKLOG,
    "to_do": ItemStatus.BACKLOG,
    "todo": ItemStatus.BACKLOG,
    "backlog": ItemStatus.BACKLOG,
    "new": ItemStatus.BACKLOG,
    "reopened": ItemStatus.BACKLOG,
    "selected_for_development": ItemStatus.READY,
    "ready": ItemStatus.READY,
    "accepted": ItemStatus.READY,
    "in_progress": ItemStatus.IN_PROGRESS,
    "in_development": ItemStatus.IN_PROGRESS,
    "in_review": ItemStatus.IN_REVIEW,
    "reviewable": ItemStatus.IN_REVIEW,
    "code_review": ItemStatus.IN_REVIEW,
    "done": ItemStatus.DONE,
    "closed": ItemStatus.DONE,
    "resolved": ItemStatus.DONE,
    "fixed": ItemStatus.DONE,
    "won't_do": ItemStatus.WONT_DO,
    "won't_fix": ItemStatus.WONT_DO,
    "wont_do": ItemStatus.WONT_DO,
    "wont_fix": ItemStatus.WONT_DO,
    "not_planned": ItemStatus.WONT_DO,
}
KIND_MAP = {
    "bug": ItemKind.BUG,
    "epic": ItemKind.EPIC,
    "story": ItemKind.STORY,
    "improvement": ItemKind.STORY,
    "new_feature": ItemKind.STORY,
    "feature": ItemKind.STORY,
    "task": ItemKind.TASK,
    "sub_task": ItemKind.TASK,
    "subtask": ItemKind.TASK,
    "documentation": ItemKind.TASK,
    "spike": ItemKind.SPIKE,
}


def clean_item(record: dict[str, Any], get: Any) -> dict[str, Any]:
    if get(record, "pull_request"):
        raise RowSkip("a pull request, not an issue")
    external_id = _text(get(record, "external_id")).strip()
    if not external_id:
        raise RowInvalid("The issue key (or number) is empty")
    title = _text(get(record, "title")).strip()
    if not title:
        raise RowInvalid("The summary (title) is empty")
    raw_estimate = get(record, "estimate")
    estimate = None
    if raw_estimate not in (None, ""):
        try:
            estimate = Decimal(str(raw_estimate)).quantize(Decimal("0.1"))
        except InvalidOperation:
            raise RowInvalid(f"Story points {str(raw_estimate)[:20]!r} is not a number") from None
        if not estimate.is_finite() or not 0 <= estimate <= 1000:
            raise RowInvalid("Story points must be between 0 and 1000")
    status_key = _text(get(record, "status")).strip().lower().replace(" ", "_")
    reason = _text(get(record, "state_reason")).strip().lower()
    status = STATUS_MAP.get(status_key, ItemStatus.BACKLOG)
    if status == ItemStatus.DONE and reason == "not_planned":
        status = ItemStatus.WONT_DO
    labels = _tags(get(record, "labels"))
    kind_key = _text(get(record, "kind")).strip().lower().replace(" ", "_").replace("-", "_")
    kind = KIND_MAP.get(kind_key) or (ItemKind.BUG if "bug" in {label.lower() for label in labels} else ItemKind.STORY)
    return {
        "external_id": external_id[:200],
        "title": title[:255],
        "description": _text(get(record, "description"))[:100000],
        "estimate": estimate,
        "status": status,
        "kind": kind,
        "created": parse_when(get(record, "created")),
    }
