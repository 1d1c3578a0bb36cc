"""Event type → handler. Handlers take the ``FeishuEvent`` row, run inside the
transaction that marks it processed, and must be idempotent (Feishu delivers at
least once, and an event can be reprocessed from the admin)."""

from django.utils.module_loading import import_string

HANDLERS: dict[str, str] = {
    "app_ticket": "hireops.events.handlers.app_ticket",
    "hire.eco_account.created_v1": "bindings.handlers.eco_account_created",
    "hire.referral_account.assets_update_v1": "referrals.handlers.assets_updated",
}


def handler_for(event_type: str):
    path = HANDLERS.get(event_type)
    return import_string(path) if path else None
