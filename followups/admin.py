from django.contrib import admin

from .models import SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["segment", "detractor_hours"]
