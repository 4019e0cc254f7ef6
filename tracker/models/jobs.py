"""Background work the database must remember: the dispatch outbox and import jobs.

Every task that matters is written down here in the same transaction as the change that
asked for it, so a broker or worker outage delays work but never loses it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from tracker.models.base import PublicModel
from tracker.models.workspace import Project, Workspace


class TaskState(models.TextChoices):
    PENDING = "pending", "Pending"  # written; not yet accepted by the broker
    SENT = "sent", "Sent"  # the broker accepted it; a worker has not finished it
    DONE = "done", "Done"  # a worker ran its effect (claimed in the effect's transaction)


class TaskRecord(models.Model):
    """One unit of background work (the outbox row behind a Celery message).

    `services.dispatch` writes it, sends the message after commit and the sweeper re-sends
    what the broker never took (or what no worker finished); the task claims it with a
    conditional UPDATE inside the transaction of its effect, so the effect happens once.
    """

    task = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    queue = models.CharField(max_length=20, default="interactive")
    state = models.CharField(max_length=8, choices=TaskState.choices, default=TaskState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at"], condition=~Q(state="done"), name="taskrecord_open"),
            models.Index(fields=["done_at"], name="taskrecord_done_at"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} {self.state}"


class ImportKind(models.TextChoices):
    FEEDBACK = "feedback", "Feedback"
    BACKLOG = "backlog", "Backlog items"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON array"
    JSONL = "jsonl", "JSON Lines"
    JIRA_CSV = "jira_csv", "Jira CSV export"
    GITHUB_JSON = "github_json", "GitHub issues JSON"
    JIRA_JSON = "jira_json", "Jira JSON (REST search)"
    LINEAR_CSV = "linear_csv", "Linear CSV export"
    TRELLO_JSON = "trello_json", "Trello board JSON"
    GOOGLE_PLAY = "google_play", "Google Play reviews"
    APP_STORE = "app_store", "App Store reviews"
    TICKETS_CSV = "tickets_csv", "Support tickets CSV"


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", "Preview"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(PublicModel):
    """An uploaded file being imported; progress and the final report live here."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="imports")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    format = models.CharField(max_length=12, choices=ImportFormat.choices)
    source = models.CharField(max_length=40, help_text="Upserts match on this source + the row's external id")
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    # The text encoding the file was read in (detected when it is not UTF-8).
    encoding = models.CharField(max_length=40, default="utf-8")
    # Header → field, decided when the file was accepted (so the worker maps the same way).
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"line": 7, "reason": "..."}], capped at IMPORT_MAX_REPORTED_ERRORS.
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="import_ws_created")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def progress(self) -> float | None:
        if not self.rows_total:
            return None
        return min(1.0, self.rows_done / self.rows_total)


class ImportChunk(models.Model):
    """The uploaded bytes, in order, so a worker on another host can stream them."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="import_chunk_unique_seq")]
