"""The project's own template filters: review data carries keys and codes, pages show
numbers and labels."""

from datetime import date, datetime

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
