"""Handlers for events that belong to the platform rather than to an app."""

from hireops.feishu import save_app_ticket


def app_ticket(event) -> None:
    """Keep the store app's ticket: the app_access_token flow needs the newest one."""
    body = event.payload.get("event") or {}
    ticket, app_id = body.get("app_ticket"), body.get("app_id") or event.app_id
    if not (ticket and app_id):
        raise ValueError("app_ticket event without app_id or app_ticket")
    save_app_ticket(app_id, ticket)
