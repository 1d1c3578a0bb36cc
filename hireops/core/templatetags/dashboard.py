from django import template

from hireops.core.admin import dashboard as board

register = template.Library()


@register.inclusion_tag("admin/hireops/dashboard.html", takes_context=True)
def dashboard(context):
    request = context["request"]
    items, facts = board.board(request)
    # The event volume (hireops.events) and the items by tenant (hireops.tenants) are their
    # packages' panels: core, below them, does not import them.
    return {"items": items, "facts": facts, "request": request, **board.panels(request, items)}
