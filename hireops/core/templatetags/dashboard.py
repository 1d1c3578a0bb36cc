from django import template

from hireops.core import dashboard as board

register = template.Library()


@register.inclusion_tag("admin/hireops/dashboard.html", takes_context=True)
def dashboard(context):
    request = context["request"]
    return {
        "items": board.attention(request),
        "facts": board.facts(request),
        "volume": board.event_volume(request),
        "request": request,
    }
