"""Upserts by external id for sync clients: one object (`PUT …/by-external/…`) or a batch of
up to 1,000 (`POST …/bulk/`). Both are doors: they find which entries exist and hand the
creates and updates to the entity's write core, which validates, writes and records them.
One bad entry rejects the batch; the error names each bad entry by index.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tracker.models import BacklogItem, Customer, Feedback, Project, Workspace
from tracker.services.backlog import EDITABLE_FIELDS, Update, items_write, lock_project
from tracker.services.customers import CustomerUpdate, customers_write, lock_workspace
from tracker.services.errors import BatchInvalid, StaleVersion, ValidationError
from tracker.services.feedback import EDITABLE_FIELDS as FEEDBACK_FIELDS
from tracker.services.feedback import NAMED_CUSTOMER_FIELDS, FeedbackUpdate, feedback_write

MAX_BATCH = 1000
Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class Upserted:
    outcome: Outcome
    obj: Any


def _external_pair(entry: dict[str, Any]) -> tuple[str, str]:
    return (entry.get("source") or "").strip(), (entry.get("external_id") or "").strip()


def _check_pairs(entries: Sequence[dict[str, Any] | None], errors: dict[int, dict[str, list[str]]]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        if entry is None:
            continue
        source, external_id = _external_pair(entry)
        if not source or not external_id:
            errors.setdefault(index, {})["external_id"] = ["Each entry needs a source and an external_id."]
        elif (source, external_id) in seen:
            errors.setdefault(index, {})["external_id"] = [
                f"Repeats entry {seen[(source, external_id)]}: each external id once per batch."
            ]
        else:
            seen[(source, external_id)] = index


def _existing_by_pair(queryset: Any, entries: Sequence[dict[str, Any] | None]) -> dict[tuple[str, str], Any]:
    pairs = {_external_pair(e) for e in entries if e is not None}
    sources = {s for s, _ in pairs}
    external_ids = {x for _, x in pairs}
    rows = queryset.filter(source__in=sources, external_id__in=external_ids).exclude(external_id="").order_by()
    return {(r.source, r.external_id): r for r in rows if (r.source, r.external_id) in pairs}


# --- Items ---------------------------------------------------------------------------------


@transaction.atomic
def item_upsert(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Upserted:
    """Create or update the one item of `project` with this (source, external_id).

    The core locks the project row first, so two concurrent upserts of the same new pair run
    one after the other and the second updates what the first created instead of failing.
    """
    entry = {**fields, "source": source, "external_id": external_id}
    try:
        (result,) = items_upsert_bulk(project=project, actor=actor, entries=[entry], expected_version=expected_version)
    except BatchInvalid as exc:
        raise exc.first() from None
    return result


@transaction.atomic
def items_upsert_bulk(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    entries: Sequence[dict[str, Any] | None],
    errors: dict[int, dict[str, list[str]]] | None = None,
    expected_version: int | None = None,
) -> list[Upserted]:
    """Upsert up to MAX_BATCH items by (source, external_id); all or nothing.

    Entries hold item fields (related objects already resolved) and optionally `labels`
    (a list of names, replacing the item's labels). New items go to the bottom of the backlog
    in entry order. `errors` are the caller's own findings (e.g. wrong types), merged in;
    their entries are None.
    """
    if len(entries) > MAX_BATCH:
        raise ValidationError({"items": f"At most {MAX_BATCH} entries per batch; got {len(entries)}."})
    errors = dict(errors or {})
    _check_pairs(entries, errors)
    # The lock before the lookup: a concurrent upsert of the same new pair waits here and
    # then finds what this one created.
    project = lock_project(project)
    existing = _existing_by_pair(BacklogItem.objects.filter(project=project), entries)
    creates: list[tuple[int, dict[str, Any]]] = []
    updates: list[Update] = []
    for index, entry in enumerate(entries):
        if entry is None or index in errors:
            continue
        unknown = set(entry) - {*EDITABLE_FIELDS, "labels"}
        if unknown:
            errors.setdefault(index, {}).update({n: ["Unknown or read-only field."] for n in unknown})
            continue
        item = existing.get(_external_pair(entry))
        if item is not None and item.deleted_at is not None:
            errors.setdefault(index, {})["external_id"] = [
                f"{project.key}-{item.number} with this external id was deleted."
            ]
            continue
        fields = {k: v for k, v in entry.items() if k not in ("source", "external_id") or item is None}
        if item is None:
            if expected_version is not None:
                raise StaleVersion(0)
            creates.append((index, fields))
        else:
            updates.append(Update(index, item.pk, fields, expected_version))
    written = items_write(project=project, actor=actor, creates=creates, updates=updates, errors=errors)
    return [Upserted(w.outcome, w.item) for w in written]


# --- Feedback and customers ----------------------------------------------------------------


@transaction.atomic
def feedback_upsert(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Upserted:
    entry = {**fields, "source": source, "external_id": external_id}
    try:
        (result,) = feedback_upsert_bulk(
            workspace=workspace, actor=actor, entries=[entry], expected_version=expected_version
        )
    except BatchInvalid as exc:
        raise exc.first() from None
    return result


@transaction.atomic
def feedback_upsert_bulk(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    entries: Sequence[dict[str, Any] | None],
    errors: dict[int, dict[str, list[str]]] | None = None,
    expected_version: int | None = None,
) -> list[Upserted]:
    """Upsert up to MAX_BATCH feedback by (source, external_id); all or nothing."""
    if len(entries) > MAX_BATCH:
        raise ValidationError({"feedback": f"At most {MAX_BATCH} entries per batch; got {len(entries)}."})
    errors = dict(errors or {})
    _check_pairs(entries, errors)
    lock_workspace(workspace)
    existing = _existing_by_pair(Feedback.objects.filter(workspace=workspace), entries)
    creates: list[tuple[int, dict[str, Any]]] = []
    updates: list[FeedbackUpdate] = []
    for index, entry in enumerate(entries):
        if entry is None or index in errors:
            continue
        unknown = set(entry) - FEEDBACK_FIELDS - NAMED_CUSTOMER_FIELDS
        if unknown:
            errors.setdefault(index, {}).update({n: ["Unknown or read-only field."] for n in unknown})
            continue
        current = existing.get(_external_pair(entry))
        if current is None:
            if expected_version is not None:
                raise StaleVersion(0)
            if not (entry.get("body") or "").strip():
                errors.setdefault(index, {})["body"] = ["The text is required to create feedback."]
                continue
            creates.append((index, dict(entry)))
        else:
            fields = {k: v for k, v in entry.items() if k not in ("source", "external_id")}
            updates.append(FeedbackUpdate(index, current.pk, fields, expected_version))
    written = feedback_write(workspace=workspace, actor=actor, creates=creates, updates=updates, errors=errors)
    return [Upserted(outcome, obj) for _, obj, outcome in written]  # type: ignore[arg-type]


@transaction.atomic
def customer_upsert(
    *,
    workspace: Workspace,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Upserted:
    source, external_id = source.strip(), external_id.strip()
    if not source or not external_id:
        raise ValidationError({"external_id": "A source and an external id are required."})
    fields = {k: v for k, v in fields.items() if k not in ("source", "external_id")}
    lock_workspace(workspace)
    existing = Customer.objects.filter(workspace=workspace, source=source, external_id=external_id).first()
    try:
        if existing is None:
            if expected_version is not None:
                raise StaleVersion(0)
            ((_, customer, outcome),) = customers_write(
                workspace=workspace, creates=[(0, {**fields, "source": source, "external_id": external_id})]
            )
        else:
            ((_, customer, outcome),) = customers_write(
                workspace=workspace, updates=[CustomerUpdate(0, existing.pk, fields, expected_version)]
            )
    except BatchInvalid as exc:
        raise exc.first() from None
    return Upserted(outcome, customer)  # type: ignore[arg-type]


__all__ = [
    "MAX_BATCH",
    "BatchInvalid",
    "Upserted",
    "customer_upsert",
    "feedback_upsert",
    "feedback_upsert_bulk",
    "item_upsert",
    "items_upsert_bulk",
]
