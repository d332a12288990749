from django.contrib import admin

from .models import Event, Invitation, Program, Referral, Response, Wave


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "stream", "product_name", "is_active"]
    list_filter = ["stream", "is_active"]
    search_fields = ["name", "product_name"]


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ["program", "period", "scheduled_at", "eligible_count"]
    list_filter = ["program"]
    raw_id_fields = ["started_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["contact", "program", "stream", "send_at", "expires_at", "responded_at", "skipped_reason"]
    list_filter = ["stream", "program", "skipped_reason"]
    search_fields = ["contact__email", "account__name"]
    raw_id_fields = ["contact", "account", "wave", "event", "email", "reminder_email"]
    readonly_fields = ["token_hash", "token_nonce"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["type", "contact", "account", "occurred_at", "received_at"]
    list_filter = ["type"]
    search_fields = ["contact__email", "idempotency_key"]
    raw_id_fields = ["contact", "account"]


class ReferralInline(admin.TabularInline):
    model = Referral
    extra = 0


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    """Answers are the customers' words: readable here, not editable."""

    list_display = ["contact", "account", "stream", "score", "category", "submitted_at"]
    list_filter = ["stream", "category", "segment", "program"]
    search_fields = ["contact__email", "account__name", "reason"]
    list_select_related = ["contact", "account"]
    inlines = [ReferralInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
