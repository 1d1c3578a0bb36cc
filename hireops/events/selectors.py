"""Reads of the event log worth naming (the dashboard's)."""

from django.contrib import admin

from .models import EventStatus, FeishuEvent


def visible_events(request):
    """The events the user may see in the event log (by role), or None for none at all."""
    events = admin.site.get_model_admin(FeishuEvent)
    return events.get_queryset(request) if events.has_view_permission(request) else None


def failed(events):
    return events.filter(status=EventStatus.FAILED)


def last_app_ticket():
    """When Feishu last pushed the app_ticket (store apps; served by the type/time index), as
    a one-row query for ``dashboard.figures``."""
    tickets = FeishuEvent.objects.filter(event_type="app_ticket").order_by("-received_at")
    return tickets.values("received_at")[:1]
