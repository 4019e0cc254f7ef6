"""Projects and objectives: settings a product owner or admin changes."""

from typing import Any

from django.db import transaction

from tracker.models import Objective, Project, Workspace
from tracker.services.errors import ValidationError, check_version

PROJECT_FIELDS = {
    "name", "description", "mix_end_customer", "mix_employee", "mix_management", "mix_partner",
    "default_sprint_days", "notify_customers", "digest_subject", "digest_template",
}  # fmt: skip
MIX_FIELDS = ("mix_end_customer", "mix_employee", "mix_management", "mix_partner")


def _check_mix(values: dict[str, Any]) -> None:
    errors = {}
    for name in MIX_FIELDS:
        value = values[name]
        if not isinstance(value, int) or not 0 <= value <= 100:
            errors[name] = "Each share is a whole percentage from 0 to 100."
    if not errors and sum(values[n] for n in MIX_FIELDS) != 100:
        errors["mix_end_customer"] = "The target segment mix must add up to 100%."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def project_create(*, workspace: Workspace, key: str, name: str, **fields: Any) -> Project:
    key = (key or "").strip().upper()
    project = Project(workspace=workspace, key=key, name=(name or "").strip(), **fields)
    _check_mix({n: getattr(project, n) for n in MIX_FIELDS})
    if Project.objects.filter(workspace=workspace, key=key).exists():
        raise ValidationError({"key": f"{key} is taken in this workspace."})
    project.full_clean(exclude=["workspace"])
    project.save()
    return project


@transaction.atomic
def project_update(*, project: Project, expected_version: int | None = None, **changes: Any) -> Project:
    unknown = set(changes) - PROJECT_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    locked = Project.objects.select_for_update().get(pk=project.pk)
    check_version(locked.version, expected_version)
    for name, value in changes.items():
        setattr(locked, name, value)
    _check_mix({n: getattr(locked, n) for n in MIX_FIELDS})
    locked.full_clean(exclude=["workspace", "key"])
    changed = [n for n in changes if getattr(project, n) != changes[n]]
    if not changed:
        return locked
    locked.version += 1
    locked.save(update_fields=[*changed, "version", "updated_at"])
    return locked


@transaction.atomic
def objective_save(*, workspace: Workspace, objective: Objective | None = None, **fields: Any) -> Objective:
    objective = objective or Objective(workspace=workspace)
    if objective.workspace_id != workspace.pk:
        raise ValidationError({"objective": "Not an objective of this workspace."})
    for name, value in fields.items():
        setattr(objective, name, value)
    objective.full_clean(exclude=["workspace"])
    if objective.pk and not objective._state.adding:
        objective.version += 1
    objective.save()
    return objective
