"""One item at a time: the web forms' and the API's single writes, each a batch of one."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tracker.models import BacklogItem, ItemKind, Objective, Project
from tracker.services.errors import BatchInvalid

from .rules import EDITABLE_FIELDS
from .write import Position, Update, items_delete, items_write


def _only_editable(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise BatchInvalid({0: {name: ["Unknown or read-only field."] for name in unknown}}).first()


def item_create(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    title: str,
    kind: str = ItemKind.STORY,
    position: Position = "bottom",
    labels: Iterable[str] = (),
    objectives: Iterable[Objective] = (),
    **fields: Any,
) -> BacklogItem:
    """Create an item at the top or bottom of the backlog."""
    _only_editable(fields)
    entry = {"title": title, "kind": kind, **fields, "labels": list(labels), "objectives": list(objectives)}
    try:
        (written,) = items_write(project=project, actor=actor, creates=[(0, entry)], position=position)
    except BatchInvalid as exc:
        raise exc.first() from None
    written.item.project = project
    return written.item


def item_update(
    *,
    item: BacklogItem,
    actor: AbstractBaseUser | None,
    expected_version: int | None = None,
    labels: Iterable[str] | None = None,
    objectives: Iterable[Objective] | None = None,
    **changes: Any,
) -> BacklogItem:
    """Change fields of an item. Raises StaleVersion when `expected_version` is not the
    stored one; a change that changes nothing writes nothing and keeps the version."""
    _only_editable(changes)
    fields = dict(changes)
    if labels is not None:
        fields["labels"] = list(labels)
    if objectives is not None:
        fields["objectives"] = list(objectives)
    try:
        (written,) = items_write(
            project=item.project, actor=actor, updates=[Update(0, item.pk, fields, expected_version)]
        )
    except BatchInvalid as exc:
        raise exc.first() from None
    written.item.project = item.project
    return written.item


@transaction.atomic
def item_delete(
    *, item: BacklogItem, actor: AbstractBaseUser | None, expected_version: int | None = None
) -> BacklogItem:
    """Tombstone an item: it disappears everywhere but stays for sync clients."""
    (deleted,) = items_delete(project=item.project, actor=actor, item_ids=[item.pk], expected_version=expected_version)
    deleted.project = item.project
    return deleted
