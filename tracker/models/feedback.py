"""What customers said, and how each piece of it is linked to backlog items."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from tracker.models.base import PublicModel
from tracker.models.customers import Customer
from tracker.models.workspace import Workspace


class Channel(models.TextChoices):
    SURVEY = "survey", "Survey"
    INTERVIEW = "interview", "Interview"
    USER_TEST = "user_test", "User test"
    SUPPORT = "support", "Support"
    FORUM = "forum", "Forum"
    SOCIAL = "social", "Social"
    EMAIL = "email", "E-mail"
    SALES = "sales", "Sales"
    SPRINT_REVIEW = "sprint_review", "Sprint review"
    WEB_FORM = "web_form", "Web form"
    API = "api", "API"
    IMPORT = "import", "Import"


class TriageState(models.TextChoices):
    NEW = "new", "New"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    DUPLICATE = "duplicate", "Duplicate"


class LoopState(models.TextChoices):
    OPEN = "open", "Open"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    ADDRESSED = "addressed", "Addressed"
    CLOSED = "closed", "Closed"


# One definition of a detractor, for every page, export, review and impact score: an NPS of
# 0–6, a CSAT of 1–2 or a CES of 5–7 (the unhappy end of each scale).
DETRACTOR_NPS_MAX = 6
DETRACTOR_CSAT_MAX = 2
DETRACTOR_CES_MIN = 5
DETRACTOR = Q(nps__lte=DETRACTOR_NPS_MAX) | Q(csat__lte=DETRACTOR_CSAT_MAX) | Q(ces__gte=DETRACTOR_CES_MIN)


def is_detractor(nps: int | None, csat: int | None, ces: int | None) -> bool:
    return (
        (nps is not None and nps <= DETRACTOR_NPS_MAX)
        or (csat is not None and csat <= DETRACTOR_CSAT_MAX)
        or (ces is not None and ces >= DETRACTOR_CES_MIN)
    )


class FeedbackQuerySet(models.QuerySet):
    def detractors(self) -> "FeedbackQuerySet":
        return self.filter(DETRACTOR)

    def in_workspace(self, workspace: Workspace) -> "FeedbackQuerySet":
        return self.filter(workspace=workspace)

    def open_for_triage(self) -> "FeedbackQuerySet":
        return self.filter(triage=TriageState.NEW)


class Feedback(PublicModel):
    # No single-column indexes on workspace and updated_at: the indexes below start with the
    # workspace, and updated_since reads feedback_ws_updated. Each index costs every insert,
    # and imports insert feedback by the hundred thousand.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="feedback", db_index=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Indexed by feedback_customer_scores, which starts with the customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback", db_index=False
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    received_at = models.DateTimeField()
    nps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    csat = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    ces = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    tags = models.JSONField(default=list, blank=True)
    triage = models.CharField(max_length=10, choices=TriageState.choices, default=TriageState.NEW)
    # CASCADE, not SET_NULL: a duplicate without its original would break the check below.
    duplicate_of = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="duplicates")
    # Derived from the links by services.feedback.feedback_refresh_loop_state; stored so the
    # inbox can filter 200,000 rows by it without joining every link.
    loop_state = models.CharField(max_length=12, choices=LoopState.choices, default=LoopState.OPEN)
    addressed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "feedback"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source", "external_id"],
                condition=~Q(external_id=""),
                name="feedback_unique_external_id",
            ),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="feedback_nps_0_10"),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="feedback_csat_1_5"
            ),
            models.CheckConstraint(condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7), name="feedback_ces_1_7"),
            models.CheckConstraint(
                condition=Q(triage="duplicate", duplicate_of__isnull=False)
                | (~Q(triage="duplicate") & Q(duplicate_of__isnull=True)),
                name="feedback_duplicate_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-received_at", "-id"], name="feedback_ws_received"),
            # The inbox: triage is always filtered (default "new"), channel often; both end with
            # the page order, id included, so a page is read in order without a sort. The
            # customer is included so the page's count with a segment filter reads no table
            # rows of feedback (docs/performance.md).
            models.Index(
                fields=["workspace", "triage", "-received_at", "-id"],
                include=["customer"],
                name="feedback_ws_triage_order",
            ),
            models.Index(
                fields=["workspace", "triage", "channel", "-received_at", "-id"],
                include=["customer"],
                name="feedback_ws_triage_channel",
            ),
            models.Index(fields=["workspace", "loop_state", "-received_at"], name="feedback_ws_loop"),
            models.Index(fields=["workspace", "updated_at", "id"], name="feedback_ws_updated"),
            # The review's "asked again, never linked": duplicates counted per original from
            # the index alone.
            models.Index(
                fields=["workspace", "duplicate_of"],
                condition=Q(triage="duplicate"),
                name="feedback_ws_duplicates",
            ),
            # A customer's feedback (the customer page, the foreign key) and the review's score
            # deltas: every score of the customers served, before and since the sprint start,
            # read from the index alone (the feedback rows hold the long texts).
            models.Index(
                fields=["customer", "received_at"], include=["nps", "csat", "ces"], name="feedback_customer_scores"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.body[:60]

    @property
    def is_detractor(self) -> bool:
        return is_detractor(self.nps, self.csat, self.ces)


class FeedbackLink(PublicModel):
    """Feedback ↔ item, with the words of the feedback that the item answers."""

    # Each foreign key is the first column of a composite index below (feedback_link_unique,
    # link_item_feedback, link_ws_updated), so none has an index of its own.
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="links", db_index=False)
    item = models.ForeignKey(
        "tracker.BacklogItem", on_delete=models.CASCADE, related_name="feedback_links", db_index=False
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    quote = models.TextField(blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["feedback", "item"], name="feedback_link_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "updated_at", "id"], name="link_ws_updated"),
            # An item's links with their feedback ids from the index alone: the sprint review
            # reads 5,000 links of 300 items this way. With the item alone indexed, the
            # planner sometimes preferred a parallel scan of every link (54 vs 34 ms).
            models.Index(fields=["item", "feedback"], name="link_item_feedback"),
        ]

    def __str__(self) -> str:
        return f"{self.feedback_id} → {self.item_id}"
