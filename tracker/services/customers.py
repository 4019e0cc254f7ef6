"""Customers: create and edit (feedback intake finds or creates them in services.feedback)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.validators import validate_email
from django.db import transaction

from tracker.models import Customer, CustomerKind, Segment, Tier, Workspace
from tracker.services.errors import ValidationError, check_version

FIELDS = {"name", "email", "kind", "organization", "segment", "tier", "annual_value", "source", "external_id"}


def validate_customer_fields(workspace: Workspace, fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned = dict(fields)
    unknown = set(fields) - FIELDS
    for name in unknown:
        errors[name] = "Unknown or read-only field."
    if "name" in fields:
        cleaned["name"] = (fields["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = "A name is required."
        elif len(cleaned["name"]) > 200:
            errors["name"] = "Keep the name under 200 characters."
    if fields.get("email"):
        cleaned["email"] = fields["email"].strip().lower()
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = "Enter a valid e-mail address."
    if "kind" in fields and fields["kind"] not in CustomerKind.values:
        errors["kind"] = f"Kind must be one of {', '.join(CustomerKind.values)}."
    if "segment" in fields and fields["segment"] not in Segment.values:
        errors["segment"] = f"Segment must be one of {', '.join(Segment.values)}."
    if "tier" in fields and fields["tier"] not in Tier.values:
        errors["tier"] = f"Tier must be one of {', '.join(Tier.values)}."
    if "annual_value" in fields:
        try:
            value = Decimal(str(fields["annual_value"] if fields["annual_value"] not in (None, "") else 0))
            if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
                raise InvalidOperation
            cleaned["annual_value"] = value.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors["annual_value"] = "Annual value must be a non-negative amount."
    org = fields.get("organization")
    if org is not None and (org.workspace_id != workspace.pk or org.kind != CustomerKind.ORGANIZATION):
        errors["organization"] = "Choose an organization of this workspace."
    for name in ("source", "external_id"):
        if name in fields:
            cleaned[name] = (fields[name] or "").strip()
    if cleaned.get("external_id") and not cleaned.get("source"):
        errors["source"] = "An external id needs a source."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def customer_create(*, workspace: Workspace, **fields: Any) -> Customer:
    cleaned = validate_customer_fields(workspace, {"name": fields.pop("name", ""), **fields})
    if (
        cleaned.get("external_id")
        and Customer.objects.filter(
            workspace=workspace, source=cleaned["source"], external_id=cleaned["external_id"]
        ).exists()
    ):
        raise ValidationError({"external_id": "A customer with this source and external id exists."})
    return Customer.objects.create(workspace=workspace, **cleaned)


@transaction.atomic
def customer_update(*, customer: Customer, expected_version: int | None = None, **changes: Any) -> Customer:
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    check_version(locked.version, expected_version)
    cleaned = validate_customer_fields(locked.workspace, changes)
    diff = []
    for name, value in cleaned.items():
        attname = Customer._meta.get_field(name).attname
        new = value.pk if hasattr(value, "pk") else value
        if getattr(locked, attname) != new:
            setattr(locked, attname, new)
            diff.append(attname)
    if not diff:
        return locked
    locked.version += 1
    locked.save(update_fields=[*diff, "version", "updated_at"])
    if {"segment", "tier", "annual_value"} & set(diff):
        from tracker.services.feedback import items_refresh_impact_for_feedback

        items_refresh_impact_for_feedback(locked.feedback.values_list("pk", flat=True))
    return locked
