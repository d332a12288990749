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


@register.inclusion_tag("insights/_verbatim_tags.html", takes_context=True)
def verbatim_tags(context, response, correct: bool = True):
    """A verbatim's sentiment and themes, each with why; with `correct`, the forms to fix them."""
    from insights.models import Theme

    tags = list(response.tags.select_related("theme").order_by("theme__name"))
    tagged = {t.theme_id for t in tags}
    request = context.get("request")
    return {
        "response": response,
        "tags": tags,
        "others": [t for t in Theme.objects.all() if t.pk not in tagged] if correct else [],
        "correct": correct,
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def make_list_words(value: str) -> list[str]:
    return value.split()
