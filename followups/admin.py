from django.contrib import admin

from .models import SlaPolicy, Task, TaskEvent


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["segment", "detractor_hours", "passive_business_days", "promoter_days"]


class TaskEventInline(admin.TabularInline):
    """The audit trail is append-only: shown, never edited."""

    model = TaskEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "at", "text", "data"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "queue", "status", "urgent", "account", "assignee", "due_at", "first_contact_at", "outcome"]
    list_filter = ["queue", "status", "urgent", "segment", "team"]
    search_fields = ["account__name", "contact__email"]
    raw_id_fields = ["response", "account", "contact", "assignee", "reask_invitation"]
    inlines = [TaskEventInline]
