"""The write core of customers: create, change, delete, and the one rule that finds or
creates the customer behind a piece of feedback, whichever door it came through.

The rule (`customers_resolve`): a customer is the one with the same source and external
id; failing that, the oldest with the same e-mail address; failing that (an entry that gives
only a name, as the public form allows), the oldest with the same name and neither e-mail
nor external id. Only then is a customer created. An entry that says nothing about who
wrote it has no customer.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tracker.feed.record import ChangeRow, changes_record
from tracker.models import (
    ChangeKind,
    ChangeOp,
    Customer,
    CustomerKind,
    Feedback,
    FeedbackLink,
    Segment,
    Tier,
    Workspace,
)
from tracker.services.bulk import bulk_set, rows_insert
from tracker.services.errors import BatchInvalid, StaleVersion, ValidationError, messages_of

FIELDS = {"name", "email", "kind", "organization", "segment", "tier", "annual_value", "source", "external_id"}
# Changes that move the impact of the items these customers asked for.
IMPACT_FIELDS = frozenset({"segment", "tier", "annual_value"})


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
    if "email" in fields:
        cleaned["email"] = (fields["email"] or "").strip().lower()
        if cleaned["email"]:
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


def lock_workspace(workspace: Workspace) -> Workspace:
    """Lock the workspace row against other lockers: serializes the creation of customers and
    feedback by external id. FOR NO KEY UPDATE, so inserts that merely reference the
    workspace (every feedback row does) do not wait for it."""
    return Workspace.objects.select_for_update(no_key=True).get(pk=workspace.pk)


@dataclass
class CustomerUpdate:
    index: int
    customer_id: Any
    fields: dict[str, Any]
    expected_version: int | None = None


def _feed_rows(customers: Iterable[Customer], op: str) -> list[ChangeRow]:
    return [ChangeRow(ChangeKind.CUSTOMER, c.pk, op, c.workspace_id, c.version) for c in customers]


@transaction.atomic
def customers_write(
    *,
    workspace: Workspace,
    creates: Sequence[tuple[int, dict[str, Any]]] = (),
    updates: Sequence[CustomerUpdate] = (),
    at: datetime | None = None,
) -> list[tuple[int, Customer, str]]:
    """Create and change customers, all or nothing: [(index, customer, outcome)]."""
    at = at or timezone.now()
    errors: dict[int, dict[str, list[str]]] = {}
    planned: list[tuple[int, dict[str, Any]]] = []
    for index, fields in creates:
        try:
            cleaned = validate_customer_fields(workspace, {"name": fields.get("name", ""), **fields})
        except ValidationError as exc:
            errors[index] = messages_of(exc)
            continue
        planned.append((index, cleaned))
    pairs = {(f["source"], f["external_id"]) for _, f in planned if f.get("external_id")}
    if pairs:
        lock_workspace(workspace)
        taken = set(
            Customer.objects.filter(
                workspace=workspace, source__in={s for s, _ in pairs}, external_id__in={x for _, x in pairs}
            ).values_list("source", "external_id")
        )
        for index, fields in planned:
            if fields.get("external_id") and (fields["source"], fields["external_id"]) in taken:
                errors[index] = {"external_id": ["A customer with this source and external id exists."]}
    ids = sorted({str(u.customer_id) for u in updates})
    locked = {
        str(c.pk): c
        for c in Customer.objects.select_for_update().filter(workspace=workspace, pk__in=ids).order_by("pk")
    }
    changed: list[tuple[int, Customer, dict[str, Any]]] = []
    results: list[tuple[int, Customer, str]] = []
    for update in updates:
        customer = locked.get(str(update.customer_id))
        if customer is None:
            errors[update.index] = {"customer": ["No such customer in this workspace."]}
            continue
        if update.expected_version is not None and update.expected_version != customer.version:
            raise StaleVersion(customer.version)
        try:
            cleaned = validate_customer_fields(workspace, update.fields)
        except ValidationError as exc:
            errors[update.index] = messages_of(exc)
            continue
        diff = {}
        for name, value in cleaned.items():
            attname = Customer._meta.get_field(name).attname
            new = value.pk if hasattr(value, "pk") else value
            if getattr(customer, attname) != new:
                diff[attname] = new
        if diff:
            changed.append((update.index, customer, diff))
        else:
            results.append((update.index, customer, "unchanged"))
    if errors:
        raise BatchInvalid(errors)
    new = [Customer(workspace=workspace, created_at=at, updated_at=at, **fields) for _, fields in planned]
    results += [(index, customer, "created") for (index, _), customer in zip(planned, new, strict=True)]
    columns: set[str] = set()
    for index, customer, diff in changed:
        for attname, value in diff.items():
            setattr(customer, attname, value)
            columns.add(attname)
        customer.version += 1
        customer.updated_at = at
        results.append((index, customer, "updated"))
    customers_save(workspace_id=workspace.pk, created=new, changed=[(c, list(diff)) for _, c, diff in changed], at=at)
    moved = [c.pk for _, c, diff in changed if IMPACT_FIELDS & diff.keys()]
    if moved:
        _refresh_impact_of_customers(moved)
    results.sort(key=lambda r: r[0])
    return results


def customers_save(
    *,
    workspace_id: Any,
    created: Sequence[Customer] = (),
    changed: Sequence[tuple[Customer, list[str]]] = (),
    at: datetime | None = None,
) -> None:
    """Write new customers and changed ones (new values set, the changed columns named) with
    their change feed entries. Fixed queries however many rows."""
    columns = {name for _, names in changed for name in names}
    rows_insert(Customer, list(created))
    if changed:
        bulk_set(Customer, [c for c, _ in changed], sorted(columns | {"version", "updated_at"}))
    changes_record(
        workspace_id=workspace_id,
        rows=[*_feed_rows(created, ChangeOp.CREATE), *_feed_rows([c for c, _ in changed], ChangeOp.UPDATE)],
        at=at,
    )


def _refresh_impact_of_customers(customer_ids: list[Any]) -> None:
    from tracker.services.backlog import items_refresh_impact

    items_refresh_impact(
        FeedbackLink.objects.filter(feedback__customer_id__in=customer_ids).values_list("item_id", flat=True).distinct()
    )


def customer_create(*, workspace: Workspace, **fields: Any) -> Customer:
    try:
        ((_, customer, _),) = customers_write(workspace=workspace, creates=[(0, fields)])
    except BatchInvalid as exc:
        raise exc.first() from None
    return customer


def customer_update(*, customer: Customer, expected_version: int | None = None, **changes: Any) -> Customer:
    try:
        ((_, updated, _),) = customers_write(
            workspace=customer.workspace, updates=[CustomerUpdate(0, customer.pk, changes, expected_version)]
        )
    except BatchInvalid as exc:
        raise exc.first() from None
    return updated


@transaction.atomic
def customer_delete(*, customer: Customer, expected_version: int | None = None) -> None:
    """Delete a customer. Their feedback stays, unattributed (each feedback a change), the
    people of an organization leave it, and the impact of the items they asked for is
    recomputed. Sync clients get a tombstone."""
    from tracker.services.feedback import FeedbackUpdate, feedback_write

    locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if locked is None:
        return
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(locked.version)
    workspace = locked.workspace
    feedback_ids = list(Feedback.objects.filter(customer=locked).values_list("pk", flat=True))
    items = list(FeedbackLink.objects.filter(feedback_id__in=feedback_ids).values_list("item_id", flat=True).distinct())
    if feedback_ids:
        feedback_write(
            workspace=workspace,
            actor=None,
            updates=[FeedbackUpdate(i, pk, {"customer": None}) for i, pk in enumerate(feedback_ids)],
            refresh_impact=False,
        )
    people = list(Customer.objects.filter(organization=locked).values_list("pk", flat=True))
    if people:
        customers_write(
            workspace=workspace, updates=[CustomerUpdate(i, pk, {"organization": None}) for i, pk in enumerate(people)]
        )
    pk, version = locked.pk, locked.version
    locked.delete()
    changes_record(
        workspace_id=workspace.pk,
        rows=[
            ChangeRow(
                ChangeKind.CUSTOMER,
                pk,
                ChangeOp.DELETE,
                workspace.pk,
                version + 1,
                data={"source": locked.source, "external_id": locked.external_id},
            )
        ],
    )
    if items:
        from tracker.services.backlog import items_refresh_impact

        items_refresh_impact(items)


# --- Finding the customer behind feedback --------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What an entry says about who wrote it."""

    email: str = ""
    name: str = ""
    source: str = ""
    external_id: str = ""
    segment: str | None = None
    tier: str | None = None

    def cleaned(self) -> "Identity":
        email = (self.email or "").strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise ValidationError({"email": "Enter a valid e-mail address."}) from exc
        if self.segment is not None and self.segment not in Segment.values:
            raise ValidationError({"segment": f"Segment must be one of {', '.join(Segment.values)}."})
        if self.tier is not None and self.tier not in Tier.values:
            raise ValidationError({"tier": f"Tier must be one of {', '.join(Tier.values)}."})
        external_id = (self.external_id or "").strip()[:200]
        return Identity(
            email=email,
            name=(self.name or "").strip()[:200],
            source=(self.source or "").strip()[:40] if external_id else "",
            external_id=external_id,
            segment=self.segment,
            tier=self.tier,
        )

    @property
    def empty(self) -> bool:
        return not (self.email or self.name or self.external_id)


def _oldest_first(rows: Iterable[tuple[Any, Any, Customer]]) -> dict[Any, Customer]:
    found: dict[Any, Customer] = {}
    for key, _created, customer in sorted(rows, key=lambda r: (r[1], str(r[2].pk))):
        found.setdefault(key, customer)
    return found


def _lookup(workspace: Workspace, identities: list[Identity]) -> dict[tuple[str, ...], Customer]:
    """Existing customers for these identities, keyed ("ext", source, id) / ("email", …) /
    ("name", …). Three queries at most, whatever the count."""
    found: dict[tuple[str, ...], Customer] = {}
    pairs = {(i.source, i.external_id) for i in identities if i.external_id}
    if pairs:
        rows = (
            Customer.objects.filter(
                workspace=workspace, source__in={s for s, _ in pairs}, external_id__in={x for _, x in pairs}
            )
            .exclude(external_id="")  # lets PostgreSQL use the partial unique index
            .order_by()
        )
        for c in rows:
            found[("ext", c.source, c.external_id)] = c
    emails = {i.email for i in identities if i.email}
    if emails:
        # Sorted here, not by the query: an ORDER BY tempts the planner into a workspace index
        # that returns rows in that order instead of the (workspace, email) one.
        rows = Customer.objects.filter(workspace=workspace, email__in=emails).order_by()
        for email, c in _oldest_first((c.email, c.created_at, c) for c in rows).items():
            found[("email", email)] = c
    names = {i.name for i in identities if i.name and not i.email and not i.external_id}
    if names:
        rows = Customer.objects.filter(workspace=workspace, name__in=names, email="", external_id="").order_by()
        for name, c in _oldest_first((c.name, c.created_at, c) for c in rows).items():
            found[("name", name)] = c
    return found


def _key(identity: Identity) -> tuple[str, ...]:
    if identity.external_id:
        return ("ext", identity.source, identity.external_id)
    if identity.email:
        return ("email", identity.email)
    return ("name", identity.name)


def _match(identity: Identity, found: dict[tuple[str, ...], Customer]) -> Customer | None:
    for key in (
        ("ext", identity.source, identity.external_id) if identity.external_id else None,
        ("email", identity.email) if identity.email else None,
        ("name", identity.name) if identity.name and not identity.email and not identity.external_id else None,
    ):
        if key is not None and key in found:
            return found[key]
    return None


def customers_resolve(*, workspace: Workspace, identities: Sequence[Identity | None]) -> list[Customer | None]:
    """The customer of each identity (see the module's rule), creating the missing ones in
    one write. Identities must be `cleaned()`. None for an identity that names nobody."""
    wanted = [i for i in identities if i is not None and not i.empty]
    if not wanted:
        return [None] * len(identities)
    found = _lookup(workspace, wanted)
    missing = [i for i in wanted if _match(i, found) is None]
    if missing:
        # Serialize creators, then look again: another request may have created them meanwhile.
        lock_workspace(workspace)
        found.update(_lookup(workspace, missing))
        creates: dict[tuple[str, ...], dict[str, Any]] = {}
        for identity in missing:
            if _match(identity, found) is not None or _key(identity) in creates:
                continue
            creates[_key(identity)] = {
                "name": identity.name or identity.email.split("@")[0] or identity.external_id,
                "email": identity.email,
                "source": identity.source,
                "external_id": identity.external_id,
                "segment": identity.segment or Segment.END_CUSTOMER,
                "tier": identity.tier or Tier.STANDARD,
            }
        if creates:
            written = customers_write(workspace=workspace, creates=list(enumerate(creates.values())))
            for key, (_, customer, _) in zip(creates, written, strict=True):
                found[key] = customer
    return [None if i is None or i.empty else _match(i, found) or found.get(_key(i)) for i in identities]


def customer_resolve(*, workspace: Workspace, **identity: Any) -> Customer | None:
    """The customer of one identity (e-mail, name, source + external id, segment, tier)."""
    (customer,) = customers_resolve(workspace=workspace, identities=[Identity(**identity).cleaned()])
    return customer
