"""Feedback sources: generic CSV/JSON/JSON Lines (columns found by name), app store review
exports (Google Play, App Store: stars are CSAT) and support-desk tickets (Zendesk-style).

Each record is cleaned into the fields the feedback write core takes. A record without an
id of its own gets a natural key (a hash of its text, date and author), so importing the
same file again updates instead of doubling. docs/imports.md has the mapping tables.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from tracker.models import Channel, ImportFormat
from tracker.services.feedback import CHANNELS
from tracker.services.import_formats import normalize_header
from tracker.services.import_rows import RowInvalid, _score, _tags, _text, parse_when

# Field → header aliases in order of preference (headers compared by normalize_header).
GENERIC_ALIASES: dict[str, tuple[str, ...]] = {
    "body": ("body", "text", "comment", "comments", "review", "feedback", "message", "content", "verbatim"),
    "title": ("title", "subject", "summary", "headline"),
    "email": ("email", "e_mail", "customer_email", "email_address", "mail"),
    "customer_name": ("customer", "customer_name", "name", "author", "user_name", "username"),
    "customer_external_id": ("customer_id", "customer_external_id", "user_id", "account_id"),
    "nps": ("nps", "score", "nps_score"),
    "csat": ("csat", "satisfaction", "rating", "stars", "star_rating"),
    "ces": ("ces", "effort", "customer_effort"),
    "received_at": ("received_at", "date", "created_at", "created", "timestamp", "submitted_at", "time"),
    "channel": ("channel",),
    "external_id": ("external_id", "review_id", "reviewid", "ticket_id", "id", "uuid"),
    "tags": ("tags", "label", "labels", "categories", "category"),
}
# Where a source names its fields differently; first match wins, then the generic aliases.
SOURCE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    ImportFormat.GOOGLE_PLAY: {
        # google-play-scraper's reviews() and the Play Console's review CSV
        "body": ("content", "review_text"),
        "title": ("review_title",),
        "customer_name": ("username",),
        "csat": ("score", "star_rating"),
        "nps": (),
        "received_at": ("at", "review_submit_millis_since_epoch", "review_submit_date_and_time"),
        "external_id": ("reviewid", "review_link"),
        "tags": ("appversion", "app_version_name"),
    },
    ImportFormat.APP_STORE: {
        # app-store-scraper (Python: review/rating/date, Node: text/score/updated)
        "body": ("review", "text", "content", "body"),
        "title": ("title",),
        "customer_name": ("username", "user_name", "nickname", "author"),
        "csat": ("rating", "score", "stars"),
        "nps": (),
        "received_at": ("date", "updated", "created"),
        "external_id": ("id", "review_id"),
        "tags": ("version", "app_version"),
    },
    ImportFormat.TICKETS_CSV: {
        "body": ("description", "comment", "body", "subject"),
        "title": ("subject",),
        "email": ("requester_email", "email"),
        "customer_name": ("requester", "requester_name"),
        "customer_external_id": ("requester_external_id", "requester_id"),
        "csat": ("satisfaction_score", "satisfaction", "satisfaction_rating", "csat"),
        "nps": (),
        "received_at": ("created_at", "created", "date"),
        "external_id": ("id", "ticket_id", "ticket_number"),
        "channel": ("via", "channel"),
        "tags": ("tags",),
    },
}
# Zendesk's satisfaction rating is good/bad: the ends of the CSAT scale.
SATISFACTION_WORDS = {"good": 5, "bad": 1, "satisfied": 5, "dissatisfied": 1, "positive": 5, "negative": 1}
UNRATED_WORDS = frozenset({"offered", "unoffered", "not_offered", "", "none", "n/a"})
VIA_CHANNELS = {
    "mail": Channel.EMAIL,
    "email": Channel.EMAIL,
    "e_mail": Channel.EMAIL,
    "web_form": Channel.WEB_FORM,
    "web": Channel.WEB_FORM,
    "chat": Channel.SUPPORT,
    "phone": Channel.SUPPORT,
    "voice": Channel.SUPPORT,
    "api": Channel.API,
    "twitter": Channel.SOCIAL,
    "facebook": Channel.SOCIAL,
}
SOURCE_CHANNEL = {ImportFormat.GOOGLE_PLAY: Channel.SOCIAL, ImportFormat.APP_STORE: Channel.SOCIAL}
MAX_BODY = 20000
NATURAL_KEY_PREFIX = "sha256:"


def aliases_for(fmt: str) -> dict[str, tuple[str, ...]]:
    own = SOURCE_ALIASES.get(fmt, {})
    return {name: (*own.get(name, ()), *(() if name in own else generic)) for name, generic in GENERIC_ALIASES.items()}


def column_mapping(fmt: str, headers: list[str]) -> dict[str, str]:
    """{field: original header}; each header used once, the most specific alias winning."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalize_header(header), header)
    used: set[str] = set()
    mapping = {}
    for name, names in aliases_for(fmt).items():
        for alias in names:
            header = by_norm.get(alias)
            if header is not None and header not in used:
                mapping[name] = header
                used.add(header)
                break
    return mapping


def getter(fmt: str, container: str, mapping: dict[str, str]) -> Callable[[dict[str, Any], str], Any]:
    """A function (record, field) → value. CSV columns are fixed by the header; JSON
    records may each carry different keys, so there each record is looked up by alias."""
    if container != "csv":
        aliases = aliases_for(fmt)

        def get_json(record: dict[str, Any], name: str) -> Any:
            keys = {normalize_header(k): k for k in record}
            for alias in aliases.get(name, ()):
                if alias in keys:
                    value = record[keys[alias]]
                    return value.strip() if isinstance(value, str) else value
            return None

        return get_json

    def get(record: dict[str, Any], name: str) -> Any:
        header = mapping.get(name)
        if header is None:
            return None
        value = record.get(header)
        if isinstance(value, list):
            value = ", ".join(value)
        return value.strip() if isinstance(value, str) else value

    return get


def _csat(fmt: str, value: Any) -> int | None:
    if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        word = normalize_header(value)
        if word in SATISFACTION_WORDS:
            return SATISFACTION_WORDS[word]
        if word in UNRATED_WORDS or fmt == ImportFormat.TICKETS_CSV:
            return None
    return _score("csat", value)


def natural_key(body: str, received: Any, author: str) -> str:
    """A stable id for a record that has none: the same review imported again is found."""
    text = " ".join(body.split()).lower()
    digest = hashlib.sha256(f"{text}\x1f{received or ''}\x1f{author.lower()}".encode()).hexdigest()
    return f"{NATURAL_KEY_PREFIX}{digest[:40]}"


def clean_feedback(record: dict[str, Any], get: Any, fmt: str = ImportFormat.CSV) -> dict[str, Any]:
    body = _text(get(record, "body")).strip()
    title = _text(get(record, "title")).strip()[:200]
    if not body:
        body, title = title, ""  # a ticket without a description: its subject is the text
    if not body:
        raise RowInvalid("The text is empty")
    if len(body) > MAX_BODY:
        raise RowInvalid("The text is longer than 20,000 characters")
    email = _text(get(record, "email")).strip().lower()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise RowInvalid(f"{email[:60]!r} is not an e-mail address") from None
    channel_raw = normalize_header(_text(get(record, "channel")))
    channel = (
        channel_raw
        if channel_raw in CHANNELS
        else VIA_CHANNELS.get(channel_raw) or SOURCE_CHANNEL.get(fmt) or Channel.IMPORT
    )
    received_at = parse_when(get(record, "received_at"))
    if title == body[:200]:
        title = ""
    name = _text(get(record, "customer_name"))[:200]
    external_id = _text(get(record, "external_id"))[:200]
    if not external_id:
        when = received_at.astimezone(UTC).isoformat() if received_at else ""  # one instant, one key
        external_id = natural_key(body, when, email or name)
    tags = _tags(get(record, "tags"))
    if fmt in (ImportFormat.GOOGLE_PLAY, ImportFormat.APP_STORE):
        tags = [f"version {t}" if t[:1].isdigit() else t for t in tags]
    return {
        "body": body,
        "title": title,
        "email": email,
        "customer_name": name,
        "customer_external_id": _text(get(record, "customer_external_id"))[:200],
        "nps": _score("nps", get(record, "nps")),
        "csat": _csat(fmt, get(record, "csat")),
        "ces": _score("ces", get(record, "ces")),
        "received_at": received_at,
        "channel": channel,
        "external_id": external_id,
        "tags": tags,
    }


def required_missing(fmt: str, container: str, mapping: dict[str, str], keys: list[str]) -> str | None:
    """Why the file cannot be imported as feedback (no text column), or None."""
    if container == "csv":
        if "body" in mapping:
            return None
        found = ", ".join(str(k) for k in keys[:20]) or "none"
    else:
        names = {normalize_header(k) for k in keys}
        if names & set(aliases_for(fmt)["body"]) or not keys:
            return None
        found = ", ".join(str(k) for k in keys[:20])
    wanted = ", ".join(aliases_for(fmt)["body"][:6])
    return f"No usable columns: a text column is needed (one of {wanted}); found {found}."
