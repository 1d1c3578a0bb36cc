from django import template

from hireops.core.admin import dashboard as board
from hireops.core.trends import charts

register = template.Library()


@register.inclusion_tag("admin/hireops/dashboard.html", takes_context=True)
def dashboard(context):
    request = context["request"]
    items, facts = board.board(request)
    # The items by tenant (hireops.tenants) are its package's panel: core, below it, does not
    # import it. The trends are the charts the apps registered (hireops.core.trends.charts).
    period = charts.period_of(request)
    trends = {"trends": charts.drawn(request), "periods": charts.PERIODS.values(), "period": period}
    return {"items": items, "facts": facts, "request": request, **trends, **board.panels(request, items)}
