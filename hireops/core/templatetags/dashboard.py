from django import template

from hireops.core import dashboard as board
from hireops.events.selectors import event_volume
from hireops.tenants.attention import by_tenant

register = template.Library()


@register.inclusion_tag("admin/hireops/dashboard.html", takes_context=True)
def dashboard(context):
    request = context["request"]
    items, facts = board.board(request)
    tenants, more_tenants = by_tenant(items)
    return {
        "items": items,
        "facts": facts,
        "tenants": tenants,
        "more_tenants": more_tenants,
        "volume": event_volume(request),
        "request": request,
    }
