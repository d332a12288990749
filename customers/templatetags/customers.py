from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def money(value) -> str:
    """An amount as people read it: thousands separated, no cents, the currency (settings.CURRENCY)."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value).quantize(Decimal(1))
    return f"{settings.CURRENCY} {amount:,}".strip()
