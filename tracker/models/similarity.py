"""The term index behind similarity suggestions, and the suggestions themselves."""

from django.db import models
from django.db.models import Q

from tracker.models.workspace import Workspace


class TermStat(models.Model):
    """How many documents of a workspace contain `term` (the row with term "" counts documents)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=40)
    df = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "term"], name="termstat_unique")]


class TermPosting(models.Model):
    """`term` occurs in this feedback or item with a length-normalised weight.

    An import writes about fifteen of these per row, so the table carries no foreign-key
    constraints in the database (each would cost an index probe per inserted row); Django
    still cascades deletes, and the partial indexes below make those deletes cheap.
    """

    # No separate single-column indexes either: the ones in Meta cover every lookup.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    term = models.CharField(max_length=40)
    feedback = models.ForeignKey(
        "tracker.Feedback",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    item = models.ForeignKey(
        "tracker.BacklogItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    weight = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "term"], name="posting_ws_term"),
            models.Index(fields=["feedback"], name="posting_feedback", condition=Q(feedback__isnull=False)),
            models.Index(fields=["item"], name="posting_item", condition=Q(item__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(feedback__isnull=True, item__isnull=False) | Q(feedback__isnull=False, item__isnull=True),
                name="posting_one_target",
            )
        ]


class SuggestionKind(models.TextChoices):
    DUPLICATE = "duplicate", "Likely duplicate"
    ITEM = "item", "Matching item"


class Suggestion(models.Model):
    """A likely duplicate of a feedback, or the backlog item it probably asks for."""

    feedback = models.ForeignKey("tracker.Feedback", on_delete=models.CASCADE, related_name="suggestions")
    kind = models.CharField(max_length=10, choices=SuggestionKind.choices)
    similar_feedback = models.ForeignKey(
        "tracker.Feedback", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    item = models.ForeignKey("tracker.BacklogItem", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    score = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["feedback", "kind", "-score"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="duplicate", similar_feedback__isnull=False, item__isnull=True)
                | Q(kind="item", item__isnull=False, similar_feedback__isnull=True),
                name="suggestion_target_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score:.2f}"
