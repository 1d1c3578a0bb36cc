"""Feishu's event types as staff read them, beside Feishu's own code (docs/feishu.md §5, §7–§9).

The names follow the titles of Feishu's own event pages. The platform names its own types
here; an app names the types it handles when it registers them (``register_event(label=…)``),
so the platform names no app's event.
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from . import registry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABELS = {
    "app_ticket": _("App ticket (store app tokens)"),
    "app_open": _("App enabled by a tenant"),
    "app_status_change": _("App stopped or started by a tenant"),
    "app_uninstalled": _("App uninstalled by a tenant"),
    "order_paid": _("App purchased"),
}


def label(event_type: str) -> "StrOrPromise":
    """The type's name for staff, or its code when nobody named it."""
    return registry.label(event_type) or LABELS.get(event_type) or event_type


def known_types() -> list[str]:
    """Every type with a name or a handler: the event log's filter offers these."""
    return sorted(set(LABELS) | set(registry.handled_types()))
