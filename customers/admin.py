from django.contrib import admin

from .models import Account, Contact, ImportJob


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["email", "name", "title", "decision_maker", "unsubscribed_at", "bounced_at"]
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "segment", "plan_tier", "region", "csm", "team", "status"]
    list_filter = ["segment", "status", "plan_tier", "region", "industry", "team"]
    search_fields = ["name", "external_id"]
    list_select_related = ["csm", "team"]
    autocomplete_fields = ["csm"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "account", "decision_maker", "locale", "unsubscribed_at", "bounced_at"]
    list_filter = ["decision_maker", "locale", "account__segment"]
    search_fields = ["email", "name", "account__name", "external_id"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "status", "total_rows", "error_count", "created_at"]
    list_filter = ["kind", "status"]
