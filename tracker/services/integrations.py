"""Webhook subscriptions: create, change and remove (delivery lives with the workers)."""

import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tracker.models import Webhook, Workspace
from tracker.services.errors import ValidationError, check_version
from tracker.services.urlsafety import check_outgoing_url

WEBHOOK_EVENTS = (
    "item.created",
    "item.changed",
    "item.deleted",
    "sprint.started",
    "sprint.closed",
    "feedback.created",
    "feedback.changed",
    "feedback.linked",
    "feedback.unlinked",
)
WEBHOOK_FIELDS = {"url", "events", "is_active", "allow_private"}


def _validate_webhook(fields: dict[str, Any], *, allow_private: bool) -> dict[str, Any]:
    unknown = set(fields) - WEBHOOK_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    cleaned = dict(fields)
    if "events" in fields:
        events = fields["events"] or []
        bad = [e for e in events if e not in WEBHOOK_EVENTS]
        if bad:
            raise ValidationError({"events": f"Unknown events: {', '.join(map(str, bad))}."})
        cleaned["events"] = sorted(set(events))
    if "url" in fields:
        url = (fields["url"] or "").strip()
        if len(url) > 500:
            raise ValidationError({"url": "Keep the URL under 500 characters."})
        # A DNS lookup: the callers run it before opening their transaction (no network
        # inside a transaction).
        check_outgoing_url(url, allow_private=allow_private)
        cleaned["url"] = url
    return cleaned


def webhook_create(
    *, workspace: Workspace, actor: AbstractBaseUser | None, url: str, **fields: Any
) -> tuple[Webhook, str]:
    """Subscribe `url`; returns the webhook and its signing secret (shown to the caller once)."""
    cleaned = _validate_webhook({"url": url, **fields}, allow_private=bool(fields.get("allow_private")))
    secret = secrets.token_hex(32)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            workspace=workspace,
            secret=secret,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            **cleaned,
        )
    return webhook, secret


def webhook_update(*, webhook: Webhook, expected_version: int | None = None, **changes: Any) -> Webhook:
    allow_private = changes.get("allow_private", webhook.allow_private)
    url_to_check = changes.get("url", webhook.url if "allow_private" in changes else None)
    if url_to_check is not None:
        changes = {**changes, "url": url_to_check}
    cleaned = _validate_webhook(changes, allow_private=bool(allow_private))
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
        check_version(locked.version, expected_version)
        diff = [name for name, value in cleaned.items() if getattr(locked, name) != value]
        if not diff:
            return locked
        for name in diff:
            setattr(locked, name, cleaned[name])
        locked.version += 1
        locked.save(update_fields=[*diff, "version", "updated_at"])
    return locked


@transaction.atomic
def webhook_delete(*, webhook: Webhook, expected_version: int | None = None) -> None:
    locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
    check_version(locked.version, expected_version)
    locked.delete()
