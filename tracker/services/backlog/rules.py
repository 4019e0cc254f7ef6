"""The rules an item's fields must follow, whichever door the write came through."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from tracker.models import BacklogItem, ItemKind, ItemStatus, Project, SprintState
from tracker.services.errors import ValidationError

# What a door may set on an item.
EDITABLE_FIELDS = (
    "title",
    "kind",
    "description",
    "acceptance_criteria",
    "status",
    "priority",
    "estimate",
    "epic",
    "sprint",
    "assignee",
    "source",
    "external_id",
)
# …and what the write core takes besides: label names, objectives, and the real dates an
# import carries (creation, resolution).
WRITABLE_FIELDS = frozenset(
    {*EDITABLE_FIELDS, "labels", "objectives", "done_at", "parent", "imported_assignee", "external_alt_id"}
)
CREATE_ONLY_FIELDS = frozenset({"created_at"})

# Checked once per entry of a bulk write; `Choices.values` builds a new list on every access.
ITEM_KINDS = frozenset(ItemKind.values)
ITEM_STATUSES = frozenset(ItemStatus.values)


def clean_estimate(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        estimate = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"estimate": "Estimate must be a number of points."}) from exc
    if not estimate.is_finite() or estimate < 0 or estimate > 1000:
        raise ValidationError({"estimate": "Estimate must be between 0 and 1000 points."})
    if estimate != estimate.quantize(Decimal("0.1")):
        raise ValidationError({"estimate": "Estimate takes at most one decimal place."})
    return estimate


def clean_labels(names: Any) -> list[str]:
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ValidationError({"labels": "Labels are a list of names."})
    return sorted({str(n).strip()[:40] for n in names if n and str(n).strip()})


def _clean_when(name: str, value: Any, errors: dict[str, str]) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        errors[name] = "A date and time with a time zone."
        return None
    return value


def validate_item_fields(project: Project, fields: dict[str, Any], item: BacklogItem | None = None) -> dict[str, Any]:
    """Check item fields against the rules; return them cleaned. Raises ValidationError
    naming every bad field at once."""
    errors: dict[str, str] = {}
    cleaned = dict(fields)
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title:
            errors["title"] = "A title is required."
        elif len(title) > 255:
            errors["title"] = "Keep the title under 255 characters."
        cleaned["title"] = title
    if "kind" in fields and fields["kind"] not in ITEM_KINDS:
        errors["kind"] = f"Kind must be one of {', '.join(ItemKind.values)}."
    if "status" in fields and fields["status"] not in ITEM_STATUSES:
        errors["status"] = f"Status must be one of {', '.join(ItemStatus.values)}."
    if "priority" in fields and fields["priority"] not in range(1, 6):
        errors["priority"] = "Priority must be between 1 and 5."
    if "estimate" in fields:
        try:
            cleaned["estimate"] = clean_estimate(fields["estimate"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    epic = fields.get("epic")
    if epic is not None:
        if epic.project_id != project.pk or epic.deleted_at is not None:
            errors["epic"] = "The epic must be a live item of the same project."
        elif epic.kind != ItemKind.EPIC:
            errors["epic"] = f"{project.key}-{epic.number} is not an epic."
        elif item is not None and epic.pk == item.pk:
            errors["epic"] = "An item cannot be its own epic."
    kind = fields.get("kind", item.kind if item else ItemKind.STORY)
    if kind == ItemKind.EPIC and (epic if "epic" in fields else item.epic_id if item else None) is not None:
        errors["epic"] = "An epic cannot belong to another epic."
    parent = fields.get("parent")
    if parent is not None:
        if parent.project_id != project.pk or parent.deleted_at is not None:
            errors["parent"] = "The parent must be a live item of the same project."
        elif parent.kind == ItemKind.EPIC:
            errors["parent"] = f"{project.key}-{parent.number} is an epic: set it as the epic instead."
        elif item is not None and parent.pk == item.pk:
            errors["parent"] = "An item cannot be its own parent."
        elif item is not None and parent.parent_id == item.pk:
            errors["parent"] = f"{project.key}-{parent.number} is a sub-task of this item."
    if "imported_assignee" in fields:
        cleaned["imported_assignee"] = (fields["imported_assignee"] or "").strip()[:200]
    if "external_alt_id" in fields:
        cleaned["external_alt_id"] = (fields["external_alt_id"] or "").strip()[:64]
    sprint = fields.get("sprint")
    if sprint is not None:
        if sprint.project_id != project.pk:
            errors["sprint"] = "The sprint must belong to the same project."
        elif sprint.state == SprintState.CLOSED and (item is None or item.sprint_id != sprint.pk):
            errors["sprint"] = f"{sprint.name} is closed."
    assignee = fields.get("assignee")
    if assignee is not None and not hasattr(assignee, "pk"):
        errors["assignee"] = "Choose a member of the workspace."
    for name in ("source", "external_id"):
        if name in fields:
            cleaned[name] = (fields[name] or "").strip()[: 200 if name == "external_id" else 40]
    if cleaned.get("external_id") and not cleaned.get("source", item.source if item else ""):
        errors["source"] = "An external id needs a source (e.g. jira or github)."
    if "labels" in fields and fields["labels"] is not None:
        try:
            cleaned["labels"] = clean_labels(fields["labels"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if "objectives" in fields and fields["objectives"] is not None:
        objectives = list(fields["objectives"])
        if any(o.workspace_id != project.workspace_id for o in objectives):
            errors["objectives"] = "Objectives must belong to the same workspace."
        cleaned["objectives"] = objectives
    for name in ("done_at", "created_at"):
        if name in fields:
            cleaned[name] = _clean_when(name, fields[name], errors)
    if errors:
        raise ValidationError(errors)
    return cleaned
