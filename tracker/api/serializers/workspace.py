"""Workspaces, members, webhooks and API tokens."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers.common import StrictSerializer
from tracker.models import ApiToken, Membership, TokenScope, Webhook, Workspace
from tracker.services.integrations import WEBHOOK_EVENTS


class WorkspaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = [
            "id",
            "slug",
            "name",
            "currency",
            "segment_weights",
            "tier_weights",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()
    projects = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["username", "name", "role", "joined_at", "projects"]
        read_only_fields = fields

    def get_name(self, membership: Membership) -> str:
        return membership.user.get_full_name()

    @extend_schema_field(serializers.DictField(child=serializers.CharField(), help_text="Project key → role"))
    def get_projects(self, membership: Membership) -> dict[str, str]:
        roles: dict[Any, dict[str, str]] = self.context.get("project_roles", {})
        return roles.get(membership.user_id, {})


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "is_active", "allow_private", "version", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.SerializerMethodField(help_text="The signing secret; shown only in this answer")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, webhook: Webhook) -> str:
        return self.context["secret"]


class WebhookWriteSerializer(StrictSerializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), required=False, help_text="Empty means all"
    )
    is_active = serializers.BooleanField(required=False)
    allow_private = serializers.BooleanField(
        required=False, help_text="Allow loopback and private addresses (workspace admins only)"
    )


class TokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "scope", "prefix", "created_at", "last_used_at", "revoked_at", "version"]
        read_only_fields = fields


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.SerializerMethodField(help_text="The token itself; shown only in this answer")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, token: ApiToken) -> str:
        return self.context["secret"]


class TokenWriteSerializer(StrictSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    scope = serializers.ChoiceField(choices=TokenScope.choices, required=False, default=TokenScope.WRITE)
