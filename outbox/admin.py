from django.contrib import admin

from .models import CaughtEmail


@admin.register(CaughtEmail)
class CaughtEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "created_at"]
    search_fields = ["subject", "to"]
    readonly_fields = [f.name for f in CaughtEmail._meta.fields]
