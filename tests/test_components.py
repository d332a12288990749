"""The staff pages' component layer (config/components.py, templates/components/)."""

import pytest
from django.template import Context, Template, TemplateSyntaxError


def test_a_component_renders_its_template_with_the_slot_escaped_in_the_callers_context():
    page = Template(
        '{% component "stat_card" label="NPS" value=nps margin=2 link="/x" link_text="Open" %}'
        "<p>{{ note }}</p>{% endcomponent %}"
    ).render(Context({"nps": 41, "note": "<script>alert(1)</script>"}))
    assert '<div class="small text-body-secondary">NPS</div>' in page
    assert "41 <span" in page and "± 2" in page and '<a class="small" href="/x">Open</a>' in page
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in page  # the slot keeps the caller's escaping
    empty = Template('{% component "stat_card" label="NPS" value=nps %}{% endcomponent %}').render(
        Context({"nps": None})
    )
    assert '<div class="stat">—</div>' in empty  # no figure yet: a dash, not a zero


def test_the_component_tag_refuses_what_it_cannot_render():
    with pytest.raises(TemplateSyntaxError, match="needs the component's name"):
        Template("{% component %}{% endcomponent %}")
    with pytest.raises(TemplateSyntaxError, match="key=value"):
        Template('{% component "stat_card" oops %}{% endcomponent %}')
