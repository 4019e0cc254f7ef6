"""The rules a feedback entry's fields must follow, whichever door it came through."""

from typing import Any

from tracker.models import Channel
from tracker.services.errors import ValidationError

SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CHANNELS = frozenset(Channel.values)  # checked per entry of a bulk write; .values is a new list each time
# What a door may set on feedback.
EDITABLE_FIELDS = frozenset(
    {"title", "body", "channel", "nps", "csat", "ces", "tags", "received_at", "customer", "source", "external_id"}
)


def validate_feedback_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check feedback fields; return them cleaned. Raises ValidationError naming every bad field."""
    errors: dict[str, str] = {}
    cleaned = dict(fields)
    if "body" in fields:
        body = (fields["body"] or "").strip()
        if not body:
            errors["body"] = "Say what the customer said: the text is required."
        elif len(body) > 20000:
            errors["body"] = "Keep feedback under 20,000 characters."
        cleaned["body"] = body
    if "title" in fields:
        cleaned["title"] = (fields["title"] or "").strip()[:200]
    if "channel" in fields and fields["channel"] not in CHANNELS:
        errors["channel"] = f"Channel must be one of {', '.join(Channel.values)}."
    for name, (low, high) in SCORE_RANGES.items():
        value = fields.get(name)
        if value is None or value == "":
            if name in fields:
                cleaned[name] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = f"{name.upper()} must be a whole number from {low} to {high}."
            continue
        if isinstance(value, float) and not value.is_integer():
            errors[name] = f"{name.upper()} must be a whole number from {low} to {high}."
        elif not low <= number <= high:
            errors[name] = f"{name.upper()} must be between {low} and {high}."
        cleaned[name] = number
    if "tags" in fields:
        tags = fields["tags"] or []
        if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
            errors["tags"] = "Tags must be a list of words."
        else:
            cleaned["tags"] = sorted({t.strip()[:40] for t in tags if t.strip()})
    for name in ("source", "external_id"):
        if name in fields:
            cleaned[name] = (fields[name] or "").strip()[: 200 if name == "external_id" else 40]
    if cleaned.get("external_id") and not cleaned.get("source"):
        errors["source"] = "An external id needs a source."
    if errors:
        raise ValidationError(errors)
    return cleaned
