"""The people and organizations whose feedback drives the backlog."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from tracker.models.base import PublicModel, Segment
from tracker.models.workspace import Workspace


class CustomerKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANIZATION = "organization", "Organization"


class Tier(models.TextChoices):
    FREE = "free", "Free"
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


class CustomerQuerySet(models.QuerySet):
    def in_workspace(self, workspace: Workspace) -> "CustomerQuerySet":
        return self.filter(workspace=workspace)


class Customer(PublicModel):
    # As for Feedback: customer_ws_email and customer_ws_updated serve the workspace and
    # updated_since lookups, so neither column has an index of its own.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="customers", db_index=False)
    updated_at = models.DateTimeField(auto_now=True)
    kind = models.CharField(max_length=12, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    organization = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        limit_choices_to={"kind": CustomerKind.ORGANIZATION},
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.END_CUSTOMER)
    tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.STANDARD)
    annual_value = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    source = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=200, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source", "external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_external_id",
            ),
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="customer_value_not_negative"),
        ]
        indexes = [
            models.Index(fields=["workspace", "email"], name="customer_ws_email"),
            models.Index(fields=["workspace", "updated_at", "id"], name="customer_ws_updated"),
        ]

    def __str__(self) -> str:
        return self.name
