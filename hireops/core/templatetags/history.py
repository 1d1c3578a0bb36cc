from django import template

from hireops.core import audit

register = template.Library()


@register.filter
def history_message(entry) -> str:
    """A LogEntry's message in the reader's language (ours and Django's alike)."""
    return audit.describe(entry)
