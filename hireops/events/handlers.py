"""Handlers for events that belong to the platform rather than to an app."""

from django.utils.translation import gettext_noop

from hireops.core.messages import Message
from hireops.feishu import save_app_ticket


def app_ticket(event) -> None:
    """Keep the store app's ticket: the app_access_token flow needs the newest one."""
    body = event.payload.get("event") or {}
    ticket, app_id = body.get("app_ticket"), body.get("app_id") or event.app_id
    if not (ticket and app_id):
        raise ValueError(Message(gettext_noop("The app_ticket event has no app_id or no app_ticket.")))
    save_app_ticket(app_id, ticket)
