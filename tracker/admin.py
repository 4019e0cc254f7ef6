"""Every model in the Django admin, with useful columns, filters and search."""

from typing import Any

from django.contrib import admin

from tracker import models as m


class MembershipInline(admin.TabularInline):
    model = m.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(m.Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "currency", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(m.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "joined_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "workspace__slug"]


class ProjectMembershipInline(admin.TabularInline):
    model = m.ProjectMembership
    extra = 0


@admin.register(m.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "workspace", "mix_end_customer", "mix_employee", "mix_management", "mix_partner"]
    list_filter = ["workspace"]
    search_fields = ["key", "name"]
    inlines = [ProjectMembershipInline]


@admin.register(m.ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]


@admin.register(m.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "kind", "segment", "tier", "annual_value", "workspace"]
    list_filter = ["workspace", "segment", "tier", "kind"]
    search_fields = ["name", "email", "external_id"]
    raw_id_fields = ["organization"]


@admin.register(m.Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "channel", "triage", "loop_state", "nps", "received_at"]
    list_filter = ["workspace", "channel", "triage", "loop_state"]
    search_fields = ["title", "body", "external_id"]
    raw_id_fields = ["customer", "duplicate_of", "created_by"]
    date_hierarchy = "received_at"


@admin.register(m.FeedbackLink)
class FeedbackLinkAdmin(admin.ModelAdmin):
    list_display = ["feedback", "item", "quote", "linked_by", "created_at"]
    raw_id_fields = ["feedback", "item", "linked_by"]
    search_fields = ["quote"]


class CommentInline(admin.StackedInline):
    model = m.Comment
    extra = 0
    raw_id_fields = ["author"]


@admin.register(m.BacklogItem)
class BacklogItemAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "title",
        "kind",
        "status",
        "estimate",
        "sprint",
        "impact_score",
        "feedback_count",
        "deleted_at",
    ]
    list_filter = ["project", "kind", "status", "priority"]
    search_fields = ["title", "external_id"]
    raw_id_fields = ["epic", "sprint", "assignee", "created_by"]
    filter_horizontal = ["labels", "objectives"]
    list_select_related = ["project", "sprint__project"]
    inlines = [CommentInline]


@admin.register(m.Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace"]
    search_fields = ["name"]


@admin.register(m.Sprint)
class SprintAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "number", "state", "start_date", "end_date", "capacity", "completed_points"]
    list_filter = ["project", "state"]
    search_fields = ["name", "goal"]


@admin.register(m.Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "kpi", "baseline", "current", "target", "workspace"]
    list_filter = ["workspace"]
    search_fields = ["title", "kpi"]


@admin.register(m.Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["item", "author", "created_at"]
    raw_id_fields = ["item", "author"]
    search_fields = ["body"]


@admin.register(m.History)
class HistoryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "field", "item", "sprint", "feedback", "actor"]
    list_filter = ["action", "field"]
    raw_id_fields = ["item", "sprint", "feedback", "actor", "project"]
    date_hierarchy = "at"


@admin.register(m.Change)
class ChangeAdmin(admin.ModelAdmin):
    """The change feed, read-only: the write core appends to it, nothing else."""

    list_display = ["id", "xid", "at", "kind", "op", "object_id", "version", "workspace"]
    list_filter = ["kind", "op"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(m.ConsumerPosition)
class ConsumerPositionAdmin(admin.ModelAdmin):
    list_display = ["consumer", "workspace", "xid", "change_id", "updated_at"]


@admin.register(m.FeedState)
class FeedStateAdmin(admin.ModelAdmin):
    list_display = ["workspace", "started_at", "pruned_xid", "pruned_id"]


@admin.register(m.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "workspace", "scope", "last_used_at", "revoked_at"]
    list_filter = ["scope", "workspace"]
    readonly_fields = ["key_hash", "prefix"]


class DeliveryInline(admin.TabularInline):
    model = m.WebhookDelivery
    extra = 0
    fields = ["event", "status", "attempts", "response_code", "created_at"]
    readonly_fields = fields


@admin.register(m.Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "workspace", "is_active", "allow_private"]
    list_filter = ["is_active", "workspace"]
    inlines = [DeliveryInline]


@admin.register(m.WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "webhook", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]


@admin.register(m.CustomerNotification)
class CustomerNotificationAdmin(admin.ModelAdmin):
    list_display = ["customer", "sprint", "to_email", "sent_at"]
    raw_id_fields = ["customer", "sprint"]
    filter_horizontal = ["feedback"]


from tracker import admin_background  # noqa: E402,F401 - background-work models
