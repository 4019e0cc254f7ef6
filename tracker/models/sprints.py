"""Sprints: planned → active → closed, with the commitment and review frozen."""

from django.db import models
from django.db.models import F, Q

from tracker.models.base import PublicModel
from tracker.models.workspace import Project


class SprintState(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Sprint(PublicModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sprints")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    goal = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    capacity = models.PositiveIntegerField(default=0, help_text="Points the team can take on")
    state = models.CharField(max_length=8, choices=SprintState.choices, default=SprintState.PLANNED)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Frozen at start: {"points": ..., "items": [{"id", "key", "estimate"}, ...]}
    commitment = models.JSONField(null=True, blank=True)
    # Frozen at close: the whole review as services.review.sprint_review returned it.
    review_snapshot = models.JSONField(null=True, blank=True)
    completed_points = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="sprint_unique_number"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(state="active"), name="sprint_one_active_per_project"
            ),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="sprint_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.project.key} {self.name}"
