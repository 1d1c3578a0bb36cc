from django import template

from hireops.core.display import time_zone_label

register = template.Library()


@register.simple_tag
def time_zone() -> str:
    """The zone the page's times are in (TIME_ZONE), named once in the page's header."""
    return time_zone_label()
