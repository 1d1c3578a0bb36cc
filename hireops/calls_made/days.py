"""The day rollups of a calls' trend, as its charts read them: one query per page and period,
shared by the charts of the trend (per day, and per kind or endpoint over the period)."""

from datetime import date

from django.utils import timezone

from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

DayRow = tuple[date, str, str, int]


def rows(request, metric: str, period: charts.Period, dimensions: list[str] | None) -> list[DayRow]:
    """(day, dimension, outcome, n) of ``metric`` in the period, for these dimensions (every
    one when None), read once per request."""
    memo = request.__dict__.setdefault("_calls_made_days", {})
    key = (metric, period.key, None if dimensions is None else tuple(sorted(dimensions)))
    if key not in memo:
        start, end, _days = charts.days_of(period)
        found = TrendRollup.objects.filter(metric=metric, grain=Grain.DAY, bucket__gte=start, bucket__lt=end)
        if dimensions is not None:
            found = found.filter(dimension__in=list(dimensions))
        memo[key] = [
            (timezone.localtime(b).date(), d, o, n)
            for b, d, o, n in found.values_list("bucket", "dimension", "outcome", "count")
        ]
    day_rows: list[DayRow] = memo[key]
    return day_rows
