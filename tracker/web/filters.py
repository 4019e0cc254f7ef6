"""The project's own template filters: review data carries keys and codes, pages show
numbers and labels."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tracker.models import Channel, Segment

SEGMENT_LABELS = dict(Segment.choices) | {"unattributed": "Unattributed"}
CHANNEL_LABELS = dict(Channel.choices)


def key_number(key: str) -> str:
    """'SHOP-12' → '12' (review data carries keys, URLs take numbers)."""
    return str(key).rpartition("-")[2]


def isodate(value: str | None) -> datetime | date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def segment_label(value: str) -> str:
    return SEGMENT_LABELS.get(value, value)


def channel_label(value: str) -> str:
    return CHANNEL_LABELS.get(value, value)


def signed(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:+g}"


def truncatechars(value: object, length: int) -> str:
    """Django's truncatechars ("…" included in `length`) without its per-call Truncator and
    Unicode normalisation: 50 backlog rows spent 9 ms in it."""
    text = str(value)
    length = int(length)
    if len(text) <= length:
        return text
    return text[: max(length - 1, 0)] + "…"


def isoformat(value: object) -> str:
    """Django's `date:"c"` for the aware UTC datetimes the database gives (the project never
    switches time zone), without the per-call time-zone and format machinery."""
    return value.isoformat() if isinstance(value, datetime) else ""


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(value: object, year: bool = True) -> str:
    """An ISO date or date-time (as the review's JSON keeps them) as Django's `date:"M j, Y"`
    (or `"M j"` without the year) writes it in English, without Django's per-call format
    machinery: the review page prints one per quote."""
    parsed = isodate(value) if isinstance(value, str) else value
    if not isinstance(parsed, date):
        return ""
    text = f"{MONTHS[parsed.month - 1]} {parsed.day}"
    return f"{text}, {parsed.year}" if year else text


def whole_number(value: object) -> str:
    """Django's `floatformat:"0g"` (rounded half up, thousands grouped with commas)."""
    try:
        number = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    return f"{number:,}"
