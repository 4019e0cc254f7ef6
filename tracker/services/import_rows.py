"""What every import source shares: dates in their many spellings, scores, tags, and the
reasons a row is refused (RowInvalid, reported with its line) or left out (RowSkip).
The sources are services.import_backlog and services.import_feedback."""

import re
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tracker.services.feedback import SCORE_RANGES


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
    """A cell or JSON value as text ("" for none)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
