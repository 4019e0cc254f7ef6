"""Backlog items, their labels and comments."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from tracker.models.base import PublicModel
from tracker.models.workspace import Objective, Project, Workspace


class ItemKind(models.TextChoices):
    EPIC = "epic", "Epic"
    STORY = "story", "Story"
    BUG = "bug", "Bug"
    TASK = "task", "Task"
    SPIKE = "spike", "Spike"


class ItemStatus(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    READY = "ready", "Ready"
    IN_PROGRESS = "in_progress", "In progress"
    IN_REVIEW = "in_review", "In review"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


FINISHED_STATUSES = (ItemStatus.DONE, ItemStatus.WONT_DO)


class Priority(models.IntegerChoices):
    LOWEST = 1, "Lowest"
    LOW = 2, "Low"
    MEDIUM = 3, "Medium"
    HIGH = 4, "High"
    HIGHEST = 5, "Highest"


class Label(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="label_unique_name")]

    def __str__(self) -> str:
        return self.name


class BacklogItemQuerySet(models.QuerySet):
    def live(self) -> "BacklogItemQuerySet":
        return self.filter(deleted_at__isnull=True)

    def in_project(self, project: Project) -> "BacklogItemQuerySet":
        return self.filter(project=project, deleted_at__isnull=True)

    def in_sprint(self, sprint) -> "BacklogItemQuerySet":  # noqa: ANN001 - Sprint is defined later
        return self.filter(sprint=sprint, deleted_at__isnull=True)

    def ranked(self) -> "BacklogItemQuerySet":
        return self.order_by("rank")

    def unfinished(self) -> "BacklogItemQuerySet":
        return self.exclude(status__in=FINISHED_STATUSES)


class BacklogItem(PublicModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=ItemKind.choices, default=ItemKind.STORY)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True, help_text="Markdown")
    acceptance_criteria = models.TextField(blank=True, help_text="Markdown")
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.BACKLOG)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    estimate = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )
    # A total order per project; integers with wide gaps so a move writes one row
    # (see services.backlog.item_move).
    rank = models.BigIntegerField()
    epic = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to={"kind": ItemKind.EPIC},
    )
    # A sub-task's parent (any kind but an epic; epics group through `epic`).
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="subtasks")
    sprint = models.ForeignKey("tracker.Sprint", on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # An assignee named by an imported file who is not a member of the workspace (shown as text).
    imported_assignee = models.CharField(max_length=200, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="items")
    objectives = models.ManyToManyField(Objective, blank=True, related_name="items")
    source = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    # The source's other id for the same issue (Jira's numeric issue id, by which its exports
    # name parents and epics), so a later file's sub-task finds a parent imported before.
    external_alt_id = models.CharField(max_length=64, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Denormalized from the feedback links by services.backlog.items_refresh_impact, so the
    # backlog can sort 10,000 items by impact without aggregating every link.
    impact_score = models.FloatField(default=0)
    feedback_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    # The distinct segments of the known customers behind the item, sorted: the backlog, board
    # and planning show them on every row (read through the links, 50 rows cost ~500 random
    # reads of feedback and customers).
    customer_segments = models.JSONField(default=list, blank=True)

    objects = BacklogItemQuerySet.as_manager()

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="item_unique_number"),
            models.UniqueConstraint(fields=["project", "rank"], name="item_unique_rank"),
            models.UniqueConstraint(
                fields=["project", "source", "external_id"],
                condition=~Q(external_id=""),
                name="item_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(estimate__isnull=True) | Q(estimate__gte=0), name="item_estimate_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "updated_at", "id"], name="item_project_updated"),
            # The backlog's epic filter: a handful of epics among 10,000 items.
            models.Index(
                fields=["project", "rank"],
                condition=Q(kind="epic", deleted_at__isnull=True),
                name="item_live_epics",
            ),
            models.Index(fields=["project", "status"], name="item_project_status"),
            models.Index(fields=["project", "-impact_score"], name="item_project_impact"),
            # The backlog page: its count reads only this index (status and kind included; the
            # deleted rows left out), and its rank order walks it (docs/performance.md).
            models.Index(
                fields=["project", "rank"],
                include=["status", "kind"],
                condition=Q(deleted_at__isnull=True),
                name="item_live_rank",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class Comment(PublicModel):
    item = models.ForeignKey(BacklogItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # The author named by an imported file when no member matches.
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.body[:60]
