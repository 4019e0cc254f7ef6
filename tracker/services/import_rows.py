"""Cleaning import rows: one record of a file → the fields Loopwise stores, or the reason
it cannot be imported (RowInvalid, reported with its line) or is left out (RowSkip)."""

from datetime import UTC, datetime
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

DATE_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")


def parse_when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    text = str(value).strip()
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        day = None
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is not None:
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
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
