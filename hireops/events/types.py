"""Feishu's event types as staff read them, beside Feishu's own code (docs/feishu.md §5, §7–§9).

The names follow the titles of Feishu's own event pages. An app that handles a type
Feishu adds later gives its label when it registers the type (``register_event(label=…)``).
"""

from django.utils.translation import gettext_lazy as _

from . import registry

LABELS = {
    "app_ticket": _("App ticket (store app tokens)"),
    "app_open": _("App enabled by a tenant"),
    "app_status_change": _("App stopped or started by a tenant"),
    "app_uninstalled": _("App uninstalled by a tenant"),
    "order_paid": _("App purchased"),
    "hire.eco_account.created_v1": _("Account bound"),
    "hire.referral_account.assets_update_v1": _("Referral balance changed"),
    "hire.eco_background_check.created_v1": _("Background check ordered"),
    "hire.eco_background_check.canceled_v1": _("Background check cancelled"),
    "hire.eco_exam.created_v1": _("Exam ordered"),
}


def label(event_type: str) -> str:
    """The type's name for staff, or its code when nobody named it."""
    return registry.label(event_type) or LABELS.get(event_type) or event_type


def known_types() -> list[str]:
    """Every type with a name or a handler: the event log's filter offers these."""
    return sorted(set(LABELS) | set(registry.handled_types()))
