from django import template

from hireops.core import dashboard as board
from hireops.events.selectors import event_volume

register = template.Library()


@register.inclusion_tag("admin/hireops/dashboard.html", takes_context=True)
def dashboard(context):
    request = context["request"]
    items, facts = board.board(request)
    return {"items": items, "facts": facts, "volume": event_volume(request), "request": request}
