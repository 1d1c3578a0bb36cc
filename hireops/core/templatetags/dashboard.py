from django import template

from hireops.core.admin import dashboard as board
from hireops.core.trends import sections

register = template.Library()


@register.inclusion_tag("admin/hireops/dashboard.html", takes_context=True)
def dashboard(context):
    request = context["request"]
    items, facts = board.board(request)
    # The items by tenant (hireops.tenants) are its package's panel: core, below it, does not
    # import it. The trends are the charts the apps registered (hireops.core.trends.charts),
    # kept drawn (hireops.core.trends.sections).
    trends = sections.section(request)
    panels = board.panels(request, items)
    return {"items": items, "facts": facts, "request": request, "trends": trends, **panels}
