"""Admin pages for background work: the dispatch outbox, imports, suggestions, roll-ups."""

from django.contrib import admin

from tracker import models as m


@admin.register(m.TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    list_display = ["task", "args", "queue", "state", "send_attempts", "created_at", "sent_at", "done_at"]
    list_filter = ["state", "task", "queue"]
    readonly_fields = ["created_at", "sent_at", "done_at"]


@admin.register(m.ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "workspace", "kind", "format", "status", "rows_done", "rows_total", "created_at"]
    list_filter = ["status", "kind", "format"]
    exclude = ["mapping"]
    readonly_fields = ["errors", "created", "updated", "skipped", "error_count", "rows_done", "rows_total"]


@admin.register(m.Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["feedback", "kind", "similar_feedback", "item", "score", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["feedback", "similar_feedback", "item"]


@admin.register(m.BurndownPoint)
class BurndownPointAdmin(admin.ModelAdmin):
    list_display = ["sprint", "day", "remaining", "completed", "scope"]
    raw_id_fields = ["sprint"]


@admin.register(m.MetricRollup)
class MetricRollupAdmin(admin.ModelAdmin):
    list_display = ["workspace", "project", "segment", "week", "feedback_count", "nps", "csat", "ces"]
    list_filter = ["segment", "workspace"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Bookkeeping rows the system writes; people look, they don't edit."""

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(m.IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "scope", "status_code", "created_at"]
    search_fields = ["key"]
    date_hierarchy = "created_at"


@admin.register(m.ImportChunk)
class ImportChunkAdmin(ReadOnlyAdmin):
    list_display = ["job", "seq"]
    raw_id_fields = ["job"]
    exclude = ["data"]


@admin.register(m.TermStat)
class TermStatAdmin(ReadOnlyAdmin):
    list_display = ["term", "df", "workspace"]
    list_filter = ["workspace"]
    search_fields = ["term"]


@admin.register(m.TermPosting)
class TermPostingAdmin(ReadOnlyAdmin):
    list_display = ["term", "feedback", "item", "weight"]
    search_fields = ["term"]
    raw_id_fields = ["feedback", "item"]
