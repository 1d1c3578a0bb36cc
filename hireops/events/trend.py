"""The events' trend: events stored per hour and day, by type and by status (the failures
among them), kept by hireops.core.trends from the marks the inbox and the services write."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import Grain

from . import registry
from .models import EventStatus, FeishuEvent

METRIC = "events"


# (event type, status, n) of the events received in [start, end): the received_at index.
counts, counts_by_hour = trends.grouped(
    trends.Counted(FeishuEvent.objects.all, "received_at", "event_type", "status")
)


def mark(moments: Iterable[datetime | None]) -> None:
    trends.mark(METRIC, moments)


def prune(rows: Iterable[tuple[datetime, str, str]]) -> None:
    trends.prune(METRIC, rows)


trends.register(trends.Metric(METRIC, counts, count_hours=counts_by_hour))


# The operators' charts (anyone who may open the event log sees the types they may open).

STORED = "stored"
FAILED = "failed"
HOURS = 48


def _may_see(request) -> bool:
    return admin.site.get_model_admin(FeishuEvent).has_view_permission(request)


def _types(request) -> list[str] | None:
    """The event types the reader may see (the event log's filter): None for every one."""
    if request.user.has_perm("events.view_feishuevent"):
        return None
    return sorted(registry.types_visible_to(request.user))


def _split(found: dict, buckets: list) -> dict[str, list[int]]:
    stored: dict = defaultdict(int)
    failed: dict = defaultdict(int)
    for (bucket, outcome), n in found.items():
        stored[bucket] += n
        if outcome == EventStatus.FAILED:
            failed[bucket] += n
    return {STORED: [stored[b] for b in buckets], FAILED: [failed[b] for b in buckets]}


def per_day(request, period: charts.Period) -> charts.Figures | None:
    if not _may_see(request):
        return None
    types = _types(request)
    start, end, days = charts.days_of(period)
    found = trends.series(METRIC, Grain.DAY, start, end, types)
    by_day = {(timezone.localtime(b).date(), o): n for (b, o), n in found.items()}
    values = _split(by_day, days)
    return charts.by_week(days, values) if period.grain == "week" else charts.Figures(list(days), values)


def per_hour(request, period: charts.Period) -> charts.Figures | None:
    if not _may_see(request):
        return None
    types = _types(request)
    end = trends.hour_of(timezone.now()) + trends.HOUR
    hours = [end - trends.HOUR * (HOURS - i) for i in range(HOURS)]
    found = trends.series(METRIC, Grain.HOUR, hours[0], end, types)
    return charts.Figures(hours, _split(found, hours))


SERIES = (
    charts.Series(STORED, _("Stored"), "#417690"),
    charts.Series(FAILED, _("Failed now"), "#ba2121", overlay=True),
)
charts.register(
    charts.Chart(
        name="events-per-day",
        title=_("Feishu events stored per day"),
        description=_(
            "Bars: the Feishu events stored in each day (a week's bars in a year), and in red those of "
            "them that failed and were not processed since. The same figures are in the table below."
        ),
        unit=_("events"),
        bucket_label=_("day"),
        series=SERIES,
        figures=per_day,
    )
)
charts.register(
    charts.Chart(
        name="events-per-hour",
        title=_("Feishu events stored per hour, last 48 hours"),
        description=_(
            "Bars: the Feishu events stored in each of the last 48 hours, and in red those of them that "
            "failed and were not processed since. The same figures are in the table below."
        ),
        unit=_("events"),
        bucket_label=_("hour"),
        series=SERIES,
        figures=per_hour,
        hourly=True,
    )
)
