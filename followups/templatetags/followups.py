from django import template
from django.utils.html import format_html

from followups.sla import humanize_due

register = template.Library()


@register.simple_tag
def sla_badge(task, now):
    """The SLA countdown: "due in 3 h" / "overdue 5 h", coloured; met or breached once contacted."""
    if task.first_contact_at:
        met = task.first_contact_at <= task.due_at
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            "success" if met else "danger",
            "SLA met" if met else "SLA breached",
        )
    if not task.is_open:
        return format_html('<span class="badge text-bg-secondary">{}</span>', task.get_status_display())
    text, colour = humanize_due(task.due_at, now)
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, text)
