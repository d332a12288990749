from django import template
from django.http import QueryDict

from surveys.cadence import quarter_label

register = template.Library()


@register.simple_tag
def add_filter(query: str, name: str, value: str) -> str:
    """The query string filtered on one more dimension value."""
    params = QueryDict(query, mutable=True)
    params[name] = value
    return params.urlencode()


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


@register.filter
def share(score, name: str) -> str:
    return percent(score.share(getattr(score, name)))


@register.simple_tag
def quarter(moment) -> str:
    return quarter_label(moment)


@register.inclusion_tag("insights/_wave_results.html")
def wave_results(wave) -> dict:
    """The results section of a wave's page (surveys shows it; the figures are insights')."""
    from insights.selectors import wave_results as results

    return {"wave": wave, "results": results(wave)}
