"""Writing the History event log: one row per changed field."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import timezone

from tracker.models import History, HistoryAction


def json_value(value: Any) -> Any:
    """History stores JSON: turn model values into their plain form."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [json_value(v) for v in value]
    return value


def history_entries(
    *,
    workspace_id: Any,
    actor: AbstractBaseUser | None,
    action: HistoryAction,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    at: datetime | None = None,
    **targets: Any,
) -> list[History]:
    """Unsaved History rows, one per field in `changes` (or one row when there are none)."""
    at = at or timezone.now()
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    base = {"workspace_id": workspace_id, "actor_id": actor_id, "at": at, "action": action, **targets}
    if not changes:
        return [History(**base)]
    return [
        History(**base, field=field, old=json_value(old), new=json_value(new)) for field, (old, new) in changes.items()
    ]


def history_record(**kwargs: Any) -> list[History]:
    return History.objects.bulk_create(history_entries(**kwargs))


def history_record_many(entries: Iterable[History]) -> None:
    History.objects.bulk_create(list(entries), batch_size=1000)
