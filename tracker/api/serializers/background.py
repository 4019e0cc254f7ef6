"""Imports, similarity suggestions and webhook deliveries."""

from typing import Any

from rest_framework import serializers

from tracker.api.serializers.common import StrictSerializer
from tracker.models import ImportKind, ImportStatus, Suggestion, WebhookDelivery


class ImportCreateSerializer(StrictSerializer):
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=(
            "Feedback: CSV, JSON array or JSON Lines, Google Play / App Store review exports, support-desk "
            "ticket CSV. Backlog: Jira CSV or JSON (REST search), GitHub issues JSON (one array or "
            "`--paginate` pages), Linear CSV, Trello board JSON. Any text encoding (detected)."
        ),
    )
    kind = serializers.ChoiceField(choices=ImportKind.choices, help_text="feedback, or backlog items")
    project = serializers.CharField(required=False, help_text="Key of the project a backlog file goes into")
    source = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="Upserts match on this source + external id"
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Only preview: read the whole file, write nothing, answer the preview (then POST …/start/)",
    )
    statuses = serializers.JSONField(
        required=False,
        binary=True,
        help_text='Backlog: the file\'s status names → Loopwise statuses, e.g. {"UAT": "in_review"}',
    )


class ImportStartSerializer(StrictSerializer):
    statuses = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='The file\'s status names → Loopwise statuses, e.g. {"UAT": "in_review"}',
    )


class ImportPreviewStatusSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The status as the file names it")
    category = serializers.CharField(allow_blank=True, help_text="todo, in_progress or done, where the file says")
    count = serializers.IntegerField()
    status = serializers.CharField(help_text="The Loopwise status it will get")
    default = serializers.CharField(help_text="What Loopwise proposes")


class ImportPreviewSerializer(serializers.Serializer):
    format = serializers.CharField()
    format_label = serializers.CharField(required=False)
    encoding = serializers.CharField()
    columns = serializers.DictField(child=serializers.CharField(), required=False, help_text="Feedback: field → column")
    rows = serializers.IntegerField(required=False)
    creates = serializers.IntegerField(required=False)
    updates = serializers.IntegerField(required=False)
    skipped = serializers.IntegerField(required=False)
    invalid = serializers.IntegerField(required=False)
    problems = serializers.ListField(child=serializers.DictField(), required=False, help_text="The first 20, by line")
    statuses = ImportPreviewStatusSerializer(many=True, required=False)
    sprints = serializers.ListField(child=serializers.DictField(), required=False)
    with_parent = serializers.IntegerField(required=False)
    comments = serializers.IntegerField(required=False)
    assignees = serializers.IntegerField(required=False)
    broken = serializers.DictField(required=False, help_text="Where a broken file broke: reason, line, byte")


class ImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ImportJobSerializer(serializers.Serializer):
    """`services.imports.import_status` as JSON, with the job's project and URL."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    format = serializers.CharField()
    filename = serializers.CharField()
    encoding = serializers.CharField(help_text="The text encoding the file was read in")
    project = serializers.CharField(allow_null=True, help_text="Project key of a backlog import")
    source = serializers.CharField()
    status = serializers.ChoiceField(choices=ImportStatus.choices)
    rows_total = serializers.IntegerField(
        allow_null=True, help_text="Estimated from the file's size at once, exact once the file has been read"
    )
    rows_estimated = serializers.BooleanField(help_text="Whether rows_total is still the estimate")
    rows_done = serializers.IntegerField()
    progress = serializers.FloatField(allow_null=True, help_text="0–1, null until rows_total is known")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = ImportRowErrorSerializer(many=True, help_text="Bad rows (the first 200) with line number and reason")
    message = serializers.CharField(allow_blank=True)
    preview = ImportPreviewSerializer(allow_null=True, help_text="What the import will do (once the file is read)")
    reading = serializers.BooleanField(
        help_text="A preview of a large file is being read in the background: poll until `preview` is set"
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="The job's web page")


class SuggestedFeedbackSerializer(serializers.Serializer):
    feedback = serializers.UUIDField(source="similar_feedback_id")
    score = serializers.FloatField()
    body = serializers.CharField(source="similar_feedback.body")
    customer = serializers.SerializerMethodField()
    triage = serializers.CharField(source="similar_feedback.triage")

    def get_customer(self, suggestion: Suggestion) -> str | None:
        customer = suggestion.similar_feedback.customer if suggestion.similar_feedback else None
        return customer.name if customer else None


class SuggestedItemSerializer(serializers.Serializer):
    item = serializers.SerializerMethodField(help_text="Item key, e.g. SHOP-12")
    item_id = serializers.UUIDField()
    score = serializers.FloatField()
    title = serializers.CharField(source="item.title")
    status = serializers.CharField(source="item.status")

    def get_item(self, suggestion: Suggestion) -> str:
        return f"{suggestion.item.project.key}-{suggestion.item.number}"


class SuggestionsSerializer(serializers.Serializer):
    duplicates = SuggestedFeedbackSerializer(many=True, help_text="Likely duplicates among open feedback, best first")
    items = SuggestedItemSerializer(many=True, help_text="Backlog items this feedback probably asks for, best first")


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "error",
            "payload",
            "created_at",
            "delivered_at",
            "next_attempt_at",
        ]
        read_only_fields = fields


def import_data(job: Any, status: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        **status,
        "project": job.project.key if job.project_id else None,
        "source": job.source,
        "created_at": job.created_at,
        "url": url,
    }
