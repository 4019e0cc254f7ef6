"""Tenants, their members and projects."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact

from tracker.models.base import PublicModel, Segment

DEFAULT_SEGMENT_WEIGHTS = {
    Segment.END_CUSTOMER.value: 1.0,
    Segment.EMPLOYEE.value: 0.8,
    Segment.MANAGEMENT.value: 1.5,
    Segment.PARTNER.value: 1.2,
}
DEFAULT_TIER_WEIGHTS = {"free": 0.5, "standard": 1.0, "premium": 1.5, "enterprise": 2.0}


def default_segment_weights() -> dict[str, float]:
    return dict(DEFAULT_SEGMENT_WEIGHTS)


def default_tier_weights() -> dict[str, float]:
    return dict(DEFAULT_TIER_WEIGHTS)


class Workspace(PublicModel):
    slug = models.SlugField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lowercase letters, digits and -.")],
    )
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3, default="EUR")
    segment_weights = models.JSONField(default=default_segment_weights)
    tier_weights = models.JSONField(default=default_tier_weights)
    # Above this many detractors or requests a feedback without an item is flagged in reviews.
    stale_feedback_days = models.PositiveSmallIntegerField(default=14)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class WorkspaceRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    GUEST = "guest", "Guest"


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=WorkspaceRole.choices, default=WorkspaceRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


percent = [MinValueValidator(0), MaxValueValidator(100)]


class Project(PublicModel):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    key = models.CharField(
        max_length=10,
        validators=[RegexValidator(r"^[A-Z]{2,10}$", "2 to 10 capital letters, like SHOP.")],
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # Target share of effort per customer segment, in percent; the database keeps the sum 100.
    mix_end_customer = models.PositiveSmallIntegerField(default=100, validators=percent)
    mix_employee = models.PositiveSmallIntegerField(default=0, validators=percent)
    mix_management = models.PositiveSmallIntegerField(default=0, validators=percent)
    mix_partner = models.PositiveSmallIntegerField(default=0, validators=percent)
    default_sprint_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    next_item_number = models.PositiveIntegerField(default=1)
    next_sprint_number = models.PositiveIntegerField(default=1)
    notify_customers = models.BooleanField(default=True)
    digest_subject = models.CharField(max_length=200, default="What we shipped for you in {{ sprint.name }}")
    digest_template = models.TextField(blank=True)

    class Meta:
        ordering = ["workspace", "key"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="project_unique_key"),
            models.CheckConstraint(condition=Q(key__regex=r"^[A-Z]{2,10}$"), name="project_key_format"),
            models.CheckConstraint(
                condition=Exact(
                    F("mix_end_customer") + F("mix_employee") + F("mix_management") + F("mix_partner"),
                    100,
                ),
                name="project_segment_mix_sums_to_100",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def target_mix(self) -> dict[str, int]:
        return {
            Segment.END_CUSTOMER.value: self.mix_end_customer,
            Segment.EMPLOYEE.value: self.mix_employee,
            Segment.MANAGEMENT.value: self.mix_management,
            Segment.PARTNER.value: self.mix_partner,
        }

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if sum(self.target_mix.values()) != 100:
            raise ValidationError({"mix_end_customer": "The target segment mix must add up to 100%."})


class ProjectRole(models.TextChoices):
    PRODUCT_OWNER = "product_owner", "Product owner"
    SCRUM_MASTER = "scrum_master", "Scrum master"
    DEVELOPER = "developer", "Developer"
    STAKEHOLDER = "stakeholder", "Stakeholder"


class ProjectMembership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    role = models.CharField(max_length=20, choices=ProjectRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} in {self.project}"


class Objective(PublicModel):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kpi = models.CharField(max_length=120, help_text="The measure, e.g. checkout conversion %")
    baseline = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    target = models.DecimalField(max_digits=14, decimal_places=2)
    current = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
