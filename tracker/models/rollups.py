"""Numbers the periodic jobs keep: daily burndown points and weekly score roll-ups."""

from django.db import models

from tracker.models.workspace import Project, Workspace


class BurndownPoint(models.Model):
    """Remaining points of an active sprint at the end of a day (one row per sprint and day)."""

    sprint = models.ForeignKey("tracker.Sprint", on_delete=models.CASCADE, related_name="burndown_points")
    day = models.DateField()
    remaining = models.FloatField()
    completed = models.FloatField(default=0)
    scope = models.FloatField(default=0)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sprint", "day"]
        constraints = [models.UniqueConstraint(fields=["sprint", "day"], name="burndown_point_unique_day")]


class MetricRollup(models.Model):
    """NPS, CSAT and CES of one week's feedback for one project (via links) and segment.

    `project` is null for feedback linked to no item; `segment` is "unattributed" for
    feedback without a customer.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    segment = models.CharField(max_length=20)
    week = models.DateField(help_text="Monday of the ISO week")
    feedback_count = models.PositiveIntegerField(default=0)
    nps = models.FloatField(null=True, blank=True)
    nps_responses = models.PositiveIntegerField(default=0)
    csat = models.FloatField(null=True, blank=True)
    csat_responses = models.PositiveIntegerField(default=0)
    ces = models.FloatField(null=True, blank=True)
    ces_responses = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace", "week"]
        indexes = [models.Index(fields=["workspace", "project", "week"], name="rollup_ws_project_week")]
