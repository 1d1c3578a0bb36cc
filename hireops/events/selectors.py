"""Reads of the event log worth naming (the dashboard's)."""

from datetime import datetime, time, timedelta

from django.contrib import admin
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import EventStatus, FeishuEvent

CHART_DAYS = 14


def visible_events(request):
    """The events the user may see in the event log (by role), or None for none at all."""
    events = admin.site.get_model_admin(FeishuEvent)
    return events.get_queryset(request) if events.has_view_permission(request) else None


def failed(events):
    return events.filter(status=EventStatus.FAILED)


def event_volume(request) -> list[dict]:
    """Events received per day over the last CHART_DAYS days (role-filtered), oldest first.

    Days before today cannot change any more (an event's day is when it arrived), so they
    are counted once a day per role and kept until midnight; today is counted on every view."""
    events = visible_events(request)
    if events is None:
        return []
    today = timezone.localdate()
    start = today - timedelta(days=CHART_DAYS - 1)
    midnight = _local_midnight(today)
    key = f"events:volume:{start}:{hash(str(events.query))}"
    counts = cache.get(key)
    if counts is None:
        counts = _per_day(events.filter(received_at__gte=_local_midnight(start), received_at__lt=midnight))
        cache.set(key, counts, max(60, int((midnight + timedelta(days=1) - timezone.now()).total_seconds())))
    counts = {**counts, today: events.filter(received_at__gte=midnight).count()}
    peak = max(counts.values(), default=0) or 1
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    return [
        {"day": d, "count": counts.get(d, 0), "height": round(100 * counts.get(d, 0) / peak)} for d in days
    ]


def _local_midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))  # an index range, not a cast per row


def _per_day(events) -> dict:
    return dict(
        events.annotate(day=TruncDate("received_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )


def last_app_ticket():
    """When Feishu last pushed the app_ticket (store apps; served by the type/time index), as
    a one-row query for ``dashboard.figures``."""
    tickets = FeishuEvent.objects.filter(event_type="app_ticket").order_by("-received_at")
    return tickets.values("received_at")[:1]
