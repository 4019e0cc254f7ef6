"""Small template filters for the web pages."""

from datetime import date, datetime

from django import template

from tracker.models import Channel, Segment

register = template.Library()
SEGMENT_LABELS = dict(Segment.choices) | {"unattributed": "Unattributed"}
CHANNEL_LABELS = dict(Channel.choices)


@register.filter
def key_number(key: str) -> str:
    """'SHOP-12' → '12' (review data carries keys, URLs take numbers)."""
    return str(key).rpartition("-")[2]


@register.filter
def isodate(value: str | None) -> datetime | date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@register.filter
def segment_label(value: str) -> str:
    return SEGMENT_LABELS.get(value, value)


@register.filter
def channel_label(value: str) -> str:
    return CHANNEL_LABELS.get(value, value)


@register.filter
def signed(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:+g}"
