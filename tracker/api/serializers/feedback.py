"""Feedback, its links to items, and customers."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers.common import StrictSerializer
from tracker.models import Channel, Customer, CustomerKind, Feedback, FeedbackLink, Segment, Tier, TriageState
from tracker.services.sync import MAX_BATCH


class LinkSerializer(serializers.ModelSerializer):
    """A feedback ↔ item link; `deleted` links come from the sync feed's tombstones."""

    item = serializers.SerializerMethodField()
    item_id = serializers.UUIDField()
    feedback = serializers.UUIDField(source="feedback_id")
    linked_by = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = FeedbackLink
        fields = [
            "id",
            "feedback",
            "item",
            "item_id",
            "quote",
            "linked_by",
            "version",
            "created_at",
            "updated_at",
            "deleted",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text="The item's key, e.g. SHOP-42"))
    def get_item(self, link: FeedbackLink) -> str:
        return f"{link.item.project.key}-{link.item.number}"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_linked_by(self, link: FeedbackLink) -> str | None:
        return link.linked_by.get_username() if link.linked_by_id and link.linked_by else None

    def get_deleted(self, link: FeedbackLink) -> bool:
        return False


class LinkFeedSerializer(serializers.Serializer):
    """One row of the workspace's link feed: a live link or the tombstone of a removed one."""

    id = serializers.UUIDField()
    feedback = serializers.UUIDField()
    item = serializers.CharField(allow_null=True)
    item_id = serializers.UUIDField()
    quote = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()
    deleted = serializers.BooleanField()


class FeedbackSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="customer_id", allow_null=True)
    customer_name = serializers.SerializerMethodField()
    duplicate_of = serializers.UUIDField(source="duplicate_of_id", allow_null=True)
    links = LinkSerializer(many=True)
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Feedback
        fields = [
            "id", "title", "body", "channel", "received_at", "nps", "csat", "ces", "tags", "customer",
            "customer_name", "triage", "duplicate_of", "loop_state", "addressed_at", "notified_at", "source",
            "external_id", "links", "version", "created_at", "updated_at", "deleted",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_customer_name(self, feedback: Feedback) -> str | None:
        return feedback.customer.name if feedback.customer_id and feedback.customer else None

    def get_deleted(self, feedback: Feedback) -> bool:
        return False


class FeedbackWriteSerializer(StrictSerializer):
    body = serializers.CharField(max_length=20000)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    received_at = serializers.DateTimeField(required=False)
    nps = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    csat = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    ces = serializers.IntegerField(min_value=1, max_value=7, required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=50)
    customer = serializers.UUIDField(required=False, allow_null=True, help_text="A customer's id")
    source = serializers.CharField(required=False, allow_blank=True, max_length=40)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=200)


class FeedbackCreateSerializer(FeedbackWriteSerializer):
    customer_email = serializers.EmailField(required=False, help_text="Find or create the customer by e-mail")
    customer_name = serializers.CharField(required=False, max_length=200)


class FeedbackPatchSerializer(FeedbackWriteSerializer):
    triage = serializers.ChoiceField(choices=TriageState.choices, required=False)
    duplicate_of = serializers.UUIDField(required=False, help_text="With triage=duplicate: the original")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("triage") == TriageState.DUPLICATE and not attrs.get("duplicate_of"):
            raise serializers.ValidationError({"duplicate_of": ["Name the original feedback."]})
        if "duplicate_of" in attrs and attrs.get("triage") != TriageState.DUPLICATE:
            raise serializers.ValidationError({"duplicate_of": ["Only with triage=duplicate."]})
        return attrs


class FeedbackUpsertSerializer(FeedbackWriteSerializer):
    body = serializers.CharField(max_length=20000, required=False)
    customer_email = serializers.EmailField(required=False, help_text="Find or create the customer by e-mail")
    customer_name = serializers.CharField(required=False, max_length=200)


class BulkFeedbackEntrySerializer(FeedbackUpsertSerializer):
    source = serializers.CharField(max_length=40)
    external_id = serializers.CharField(max_length=200)


class BulkFeedbackSerializer(StrictSerializer):
    feedback = serializers.ListField(child=serializers.DictField(), max_length=MAX_BATCH, allow_empty=False)


class LinkCreateSerializer(StrictSerializer):
    item = serializers.RegexField(r"^[A-Z]{2,10}-[1-9][0-9]{0,9}$", help_text="The item's key, e.g. SHOP-42")
    quote = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class LinkByExternalSerializer(StrictSerializer):
    """Both ends of a link named by the ids another system knows them by."""

    feedback_source = serializers.CharField(max_length=40)
    feedback_external_id = serializers.CharField(max_length=200)
    project = serializers.RegexField(r"^[A-Z]{2,10}$", help_text="The item's project key, e.g. SHOP")
    item_source = serializers.CharField(max_length=40)
    item_external_id = serializers.CharField(max_length=200)
    quote = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CustomerSerializer(serializers.ModelSerializer):
    email = serializers.CharField(help_text="May be empty")
    organization = serializers.UUIDField(source="organization_id", allow_null=True)
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id", "name", "email", "kind", "organization", "segment", "tier", "annual_value", "source",
            "external_id", "version", "created_at", "updated_at", "deleted",
        ]  # fmt: skip
        read_only_fields = fields

    def get_deleted(self, customer: Customer) -> bool:
        return False


class CustomerWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=CustomerKind.choices, required=False)
    organization = serializers.UUIDField(required=False, allow_null=True)
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    annual_value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    source = serializers.CharField(required=False, allow_blank=True, max_length=40)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CustomerUpsertSerializer(CustomerWriteSerializer):
    name = serializers.CharField(max_length=200, required=False)
