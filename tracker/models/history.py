"""The event log of every change: it feeds the activity stream, burndown and audit trail."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from tracker.models.workspace import Project, Workspace


class HistoryAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    LINKED = "linked", "Linked"
    UNLINKED = "unlinked", "Unlinked"
    COMMENTED = "commented", "Commented"


class History(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # No single-column indexes on item and sprint: history_item_at and history_sprint_at
    # start with them and serve every lookup (every index is paid for on each insert).
    item = models.ForeignKey(
        "tracker.BacklogItem", on_delete=models.CASCADE, null=True, blank=True, related_name="history", db_index=False
    )
    sprint = models.ForeignKey(
        "tracker.Sprint", on_delete=models.CASCADE, null=True, blank=True, related_name="history", db_index=False
    )
    feedback = models.ForeignKey(
        "tracker.Feedback", on_delete=models.CASCADE, null=True, blank=True, related_name="history"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=10, choices=HistoryAction.choices)
    field = models.CharField(max_length=40, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "history"
        indexes = [
            models.Index(fields=["item", "at"], name="history_item_at"),
            models.Index(fields=["sprint", "at"], name="history_sprint_at"),
            # The burndown finds items moved into or out of a sprint by the sprint's id in
            # `new` or `old`; with the index above the three branches of its OR are index scans.
            models.Index(fields=["old"], condition=Q(field="sprint"), name="history_sprint_moved_out"),
            models.Index(fields=["new"], condition=Q(field="sprint"), name="history_sprint_moved_in"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.field} at {self.at:%Y-%m-%d %H:%M}"
