"""Backlog items: what a client sends and what it gets back."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import F, OuterRef, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers.common import StrictSerializer, absolute
from tracker.models import BacklogItem, Comment, ItemKind, ItemStatus, Priority, Project
from tracker.models.expressions import ListOf
from tracker.services.sync import MAX_BATCH


class ItemSerializer(serializers.ModelSerializer):
    """An item as clients see it, with what they would otherwise fetch separately."""

    key = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    epic = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField(help_text="A sub-task's parent item, e.g. SHOP-12")
    sprint = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    imported_assignee = serializers.CharField(
        read_only=True, help_text="An assignee an import named who is not a member of the workspace"
    )
    labels = serializers.SerializerMethodField()
    objectives = serializers.SerializerMethodField()
    impact = serializers.FloatField(source="impact_score")
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = BacklogItem
        fields = [
            "id", "key", "number", "url", "title", "kind", "status", "priority", "estimate", "rank",
            "description", "acceptance_criteria", "epic", "parent", "sprint", "assignee", "imported_assignee",
            "labels", "objectives", "source", "external_id", "feedback_count", "customer_count", "impact",
            "version", "created_at", "updated_at", "done_at", "deleted", "deleted_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_key(self, item: BacklogItem) -> str:
        return f"{item.project.key}-{item.number}"

    def get_url(self, item: BacklogItem) -> str:
        project = item.project
        path = f"/{project.workspace.slug}/{project.key}/items/{item.number}/"
        return absolute(self.context.get("request"), path)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_epic(self, item: BacklogItem) -> str | None:
        if not item.epic_id:
            return None
        number = item.epic_number if hasattr(item, "epic_number") else item.epic.number
        return f"{item.project.key}-{number}"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent(self, item: BacklogItem) -> str | None:
        if not item.parent_id:
            return None
        number = item.parent_number if hasattr(item, "parent_number") else item.parent.number
        return f"{item.project.key}-{number}"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_sprint(self, item: BacklogItem) -> int | None:
        if not item.sprint_id:
            return None
        return item.sprint_number if hasattr(item, "sprint_number") else item.sprint.number

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee(self, item: BacklogItem) -> str | None:
        if not item.assignee_id:
            return None
        return item.assignee_name if hasattr(item, "assignee_name") else item.assignee.get_username()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_labels(self, item: BacklogItem) -> list[str]:
        names = getattr(item, "label_names", None)
        return sorted(names if names is not None else (label.name for label in item.labels.all()))

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_objectives(self, item: BacklogItem) -> list[str]:
        ids = getattr(item, "objective_ids", None)
        return sorted(ids if ids is not None else (str(o.pk) for o in item.objectives.all()))

    def get_deleted(self, item: BacklogItem) -> bool:
        return item.deleted_at is not None


# --- Lists ------------------------------------------------------------------------------
# A page of 100 items through ItemSerializer cost about 25 ms of Python (a model instance, its
# related instances and 28 field objects per row); a list is the hot path of every sync client.
# Lists therefore read exactly the columns they send, with the epic and sprint numbers, the
# assignee's name, the label names and the objective ids in the same one query, and turn each
# row into the same JSON ItemSerializer gives (tests/api/test_api_item_list_rows.py holds the
# two to each other). ItemSerializer stays the schema and the single-item representation.

LIST_COLUMNS = (
    "id", "number", "title", "kind", "status", "priority", "estimate", "rank", "description",
    "acceptance_criteria", "epic_id", "epic_number", "parent_id", "parent_number", "sprint_id", "sprint_number",
    "assignee_id", "assignee_name", "imported_assignee",
    "label_names", "objective_ids", "source", "external_id", "feedback_count", "customer_count", "impact_score",
    "version", "created_at", "updated_at", "done_at", "deleted_at",
)  # fmt: skip
ONE_PLACE = Decimal("0.1")


def item_list_rows(queryset: QuerySet[BacklogItem]) -> QuerySet[BacklogItem]:
    """`queryset` as plain rows carrying everything `item_list_data` sends."""
    labels = BacklogItem.labels.through.objects.filter(backlogitem_id=OuterRef("pk"))
    objectives = BacklogItem.objectives.through.objects.filter(backlogitem_id=OuterRef("pk"))
    return queryset.annotate(
        epic_number=F("epic__number"),
        parent_number=F("parent__number"),
        sprint_number=F("sprint__number"),
        assignee_name=F("assignee__username"),
        label_names=ListOf(labels, "label__name"),
        objective_ids=ListOf(objectives, "objective_id"),
    ).values(*LIST_COLUMNS)


def _datetime(value: Any, tz: Any) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone, UTC as `Z`."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _uuid(value: Any) -> str:
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def item_list_data(rows: Iterable[dict[str, Any]], *, project: Project, request: Any) -> list[dict[str, Any]]:
    """Rows of `item_list_rows` as ItemSerializer represents them."""
    tz = timezone.get_current_timezone()
    prefix = f"{project.key}-"
    url = absolute(request, f"/{project.workspace.slug}/{project.key}/items/")
    out = []
    for r in rows:
        number = r["number"]
        estimate = r["estimate"]
        out.append({
            "id": str(r["id"]),
            "key": f"{prefix}{number}",
            "number": number,
            "url": f"{url}{number}/",
            "title": r["title"],
            "kind": r["kind"],
            "status": r["status"],
            "priority": r["priority"],
            "estimate": None if estimate is None else f"{estimate.quantize(ONE_PLACE):f}",
            "rank": r["rank"],
            "description": r["description"],
            "acceptance_criteria": r["acceptance_criteria"],
            "epic": f"{prefix}{r['epic_number']}" if r["epic_id"] else None,
            "parent": f"{prefix}{r['parent_number']}" if r["parent_id"] else None,
            "sprint": r["sprint_number"] if r["sprint_id"] else None,
            "assignee": r["assignee_name"] if r["assignee_id"] else None,
            "imported_assignee": r["imported_assignee"],
            "labels": sorted(r["label_names"]),
            "objectives": sorted(_uuid(o) for o in r["objective_ids"]),
            "source": r["source"],
            "external_id": r["external_id"],
            "feedback_count": r["feedback_count"],
            "customer_count": r["customer_count"],
            "impact": float(r["impact_score"]),
            "version": r["version"],
            "created_at": _datetime(r["created_at"], tz),
            "updated_at": _datetime(r["updated_at"], tz),
            "done_at": _datetime(r["done_at"], tz),
            "deleted": r["deleted_at"] is not None,
            "deleted_at": _datetime(r["deleted_at"], tz),
        })  # fmt: skip
    return out


class ItemWriteSerializer(StrictSerializer):
    """Item fields a client may set. References: epic and sprint by number, assignee by username."""

    title = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=ItemKind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    acceptance_criteria = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    estimate = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, max_value=1000, required=False, allow_null=True
    )
    epic = serializers.IntegerField(min_value=1, required=False, allow_null=True, help_text="The epic's number")
    sprint = serializers.IntegerField(min_value=1, required=False, allow_null=True, help_text="The sprint's number")
    assignee = serializers.CharField(required=False, allow_null=True, max_length=150, help_text="A username")
    labels = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=50)
    objectives = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=50)
    source = serializers.CharField(required=False, allow_blank=True, max_length=40)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ItemCreateSerializer(ItemWriteSerializer):
    position = serializers.ChoiceField(choices=["top", "bottom"], required=False, default="bottom")


class ItemReplaceSerializer(ItemWriteSerializer):
    """PUT on an item: every field not sent goes back to its default."""

    kind = serializers.ChoiceField(choices=ItemKind.choices, required=False, default=ItemKind.STORY)
    description = serializers.CharField(required=False, allow_blank=True, max_length=50000, default="")
    acceptance_criteria = serializers.CharField(required=False, allow_blank=True, max_length=50000, default="")
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False, default=ItemStatus.BACKLOG)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, default=Priority.MEDIUM)
    estimate = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, max_value=1000, required=False, allow_null=True, default=None
    )
    epic = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    sprint = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    assignee = serializers.CharField(required=False, allow_null=True, max_length=150, default=None)
    labels = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    objectives = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)


class ItemUpsertSerializer(ItemWriteSerializer):
    """PUT by external id: fields not sent keep their value (title is needed to create)."""

    title = serializers.CharField(max_length=255, required=False)


class BulkItemSerializer(ItemUpsertSerializer):
    objectives = None  # set them one item at a time (PATCH); a batch keeps its fixed query count
    source = serializers.CharField(max_length=40)
    external_id = serializers.CharField(max_length=200)


class BulkItemsSerializer(StrictSerializer):
    items = serializers.ListField(child=serializers.DictField(), max_length=MAX_BATCH, allow_empty=False)


class MoveSerializer(StrictSerializer):
    before = serializers.IntegerField(min_value=1, required=False, help_text="Put it just before this number")
    after = serializers.IntegerField(min_value=1, required=False, help_text="Put it just after this number")
    position = serializers.ChoiceField(choices=["top", "bottom"], required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError({"position": ["Give exactly one of before, after or position."]})
        return attrs


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    author_name = serializers.CharField(read_only=True, help_text="An imported comment's author who is not a member")

    class Meta:
        model = Comment
        fields = ["id", "author", "author_name", "body", "version", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author(self, comment: Comment) -> str | None:
        return comment.author.get_username() if comment.author_id and comment.author else None


class CommentWriteSerializer(StrictSerializer):
    body = serializers.CharField(max_length=10000)
