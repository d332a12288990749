"""The staff pages' component layer: `{% component "name" key=value %}…{% endcomponent %}` renders
`templates/components/<name>.html` with the keywords, and what sits between the tags as `slot`.

A built-in tag (settings.TEMPLATES "builtins"), so every template can use it without {% load %}.
The slot is rendered in the caller's context, with its autoescaping, before the component sees it.
"""

from django import template
from django.template.base import Node, NodeList, TemplateSyntaxError, token_kwargs
from django.utils.safestring import mark_safe

register = template.Library()


class ComponentNode(Node):
    def __init__(self, name, kwargs: dict, nodelist: NodeList) -> None:
        self.name = name
        self.kwargs = kwargs
        self.nodelist = nodelist

    def render(self, context) -> str:
        name = self.name.resolve(context)
        values = {key: value.resolve(context) for key, value in self.kwargs.items()}
        slot = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered (and escaped) just above
        component = context.template.engine.get_template(f"components/{name}.html")
        with context.push(**values, slot=slot):
            return component.render(context)


@register.tag("component")
def do_component(parser, token) -> ComponentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise TemplateSyntaxError("{% component %} needs the component's name.")
    kwargs = token_kwargs(bits[2:], parser)
    if len(kwargs) != len(bits) - 2:
        raise TemplateSyntaxError("{% component %} takes key=value arguments after the name.")
    nodelist = parser.parse(("endcomponent",))
    parser.delete_first_token()
    return ComponentNode(parser.compile_filter(bits[1]), kwargs, nodelist)
