"""The orders' metrics by name, and the day rows their daily charts share: one query for the
orders received and ended, the overdue level and the failed calls (``day_rows``). Without the
catalogue's imports: the catalogue's pushes mark the failed calls."""

from collections import defaultdict
from datetime import date

from django.db.models import Case, DateTimeField, F, Q, Sum, Value, When
from django.utils import timezone

from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

FAILED = "orders.failed"  # by finished_at: the failed writes and pushes (orders.failures)
RECEIVED = "orders.received"  # by received_at: dimension the kind of order
ENDED = "orders.ended"  # by ended_at: dimension the kind, outcome the state it ended in
TURNAROUND = "orders.turnaround"  # by ended_at: a histogram of turnarounds (orders.turnaround)
USAGE = "orders.usage"  # by received_at and ended_at, per customer: the usage export (orders.busiest)
OVERDUE = "orders.overdue"  # by the moment an order falls due and stops being overdue (orders.overdue)


def day_rows(request, period: charts.Period) -> dict[tuple[str, date, str, str], int]:
    """{(metric, day, dimension, outcome): n} of the orders' daily charts (received and ended,
    overdue, failed calls), read in one query and kept on the request: the dashboard's charts
    share it. The overdue level's rows before the period fold into its first day (the level it
    starts from), and today's are its hours up to now."""
    kept = getattr(request, "_orders_day_rows", {})
    if period.key in kept:
        return kept[period.key]
    start, end, _days = charts.days_of(period)
    today = charts.midnight(timezone.localdate())
    now_hour = trends.hour_of(timezone.now()) + trends.HOUR
    daily = Q(metric__in=[RECEIVED, ENDED, FAILED], grain=Grain.DAY, bucket__gte=start, bucket__lt=end)
    overdue = Q(metric=OVERDUE) & (
        Q(grain=Grain.DAY, bucket__lt=today) | Q(grain=Grain.HOUR, bucket__gte=today, bucket__lt=now_hour)
    )
    day = Case(
        When(metric=OVERDUE, bucket__lt=start, then=Value(start)),
        When(metric=OVERDUE, bucket__gte=today, then=Value(today)),
        default=F("bucket"),
        output_field=DateTimeField(),
    )
    summed = (
        TrendRollup.objects.filter(daily | overdue)
        .order_by()
        .annotate(day=day)
        .values_list("metric", "day", "dimension", "outcome")
        .annotate(n=Sum("count"))
    )
    found: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for metric, moment, dimension, outcome, n in summed:
        found[metric, timezone.localtime(moment).date(), dimension, outcome] += n
    kept[period.key] = found
    request._orders_day_rows = kept
    return found
