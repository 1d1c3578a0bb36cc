"""Reads of the event log worth naming (the dashboard's)."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import EventStatus, FeishuEvent

CHART_DAYS = 14


def visible_events(request):
    """The events the user may see in the event log (by role), or None for none at all."""
    events = admin.site.get_model_admin(FeishuEvent)
    return events.get_queryset(request) if events.has_view_permission(request) else None


def failed_count(events) -> int:
    return events.filter(status=EventStatus.FAILED).count()


def event_volume(request) -> list[dict]:
    """Events received per day over the last CHART_DAYS days (role-filtered), oldest first."""
    events = visible_events(request)
    if events is None:
        return []
    today = timezone.localdate()
    start = today - timedelta(days=CHART_DAYS - 1)
    counts = dict(
        events.filter(received_at__date__gte=start)
        .annotate(day=TruncDate("received_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    peak = max(counts.values(), default=0) or 1
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    return [
        {"day": d, "count": counts.get(d, 0), "height": round(100 * counts.get(d, 0) / peak)} for d in days
    ]
