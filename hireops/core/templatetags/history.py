from django import template

from hireops.core.privacy import personal

register = template.Library()


@register.filter
def history_message(entry, user) -> str:
    """A LogEntry's message in the reader's language (ours and Django's alike), with the
    mobiles and emails a reason may hold masked unless ``user`` may see them."""
    return personal.shown(user, entry, "change_message")
