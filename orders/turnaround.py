"""Turnaround, from an order's receipt to its result, as a histogram kept by hireops.core.trends.

A median or a 90th percentile cannot be summed from counts, so the rollup keeps how many orders
took each length of time: ``orders.turnaround``, bucketed by the hour the order ended
(``ended_at``), dimension ``check:<package>`` or ``exam:<paper>``, outcome the turnaround
bucket's lower bound in hours. The buckets are an hour wide below a day, six hours below a
week, a day below sixty days; longer ones share the last bucket. Only orders that ended with
a result count: background checks completed, exams answered or graded (a cancellation is no
turnaround). The hours are marked with the orders' ends (``trend.mark_ended``): the same
writes move both.

The metric keeps month rollups too (a year is read from 13 rows per package and bucket, not
365): the charts read the months the period touches in one query and take the median and the
90th percentile from the cumulative counts: the upper bound of the bucket that reaches half
(nine tenths) of the orders, so a figure is at most the bucket's width above the true one (an
hour, six hours or a day).
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

from .catalogue.turnarounds import turnarounds
from .models import BackgroundCheck, CheckState, Exam
from .trend import TURNAROUND, reader_kinds

METRIC = TURNAROUND
DAY, WEEK, CAP = 24, 7 * 24, 60 * 24  # hours


def bucket_of(hours: float) -> int:
    """The lower bound, in hours, of the bucket a turnaround of ``hours`` falls in."""
    if hours < DAY:
        return max(0, int(hours))
    if hours < WEEK:
        return int(hours) // 6 * 6
    if hours < CAP:
        return int(hours) // DAY * DAY
    return CAP


def upper_of(bucket: int) -> int:
    """The bucket's upper bound (the cap's own lower bound: "sixty days or more")."""
    if bucket < DAY:
        return bucket + 1
    if bucket < WEEK:
        return bucket + 6
    if bucket < CAP:
        return bucket + DAY
    return CAP


def _ended(start: datetime, end: datetime) -> Iterator[tuple[datetime, str, str]]:
    """(end, kind:package, bucket) of each order that ended with a result in [start, end)."""
    checks = BackgroundCheck.objects.filter(
        ended_at__gte=start, ended_at__lt=end, state=CheckState.COMPLETED
    ).values_list("package_id", "received_at", "ended_at")
    exams = Exam.objects.filter(ended_at__gte=start, ended_at__lt=end).values_list(
        "paper_id", "received_at", "ended_at"
    )
    for kind, rows in (("check", checks), ("exam", exams)):
        for code, received, ended in rows.order_by().iterator(chunk_size=2000):
            assert ended is not None  # the filter is on ended_at
            hours = (ended - received).total_seconds() / 3600
            yield ended, f"{kind}:{code}", str(bucket_of(hours))


# (kind:package, bucket, n) of an hour, and of a batch of hours by hour, by one rule.
counts, counts_by_hour = trends.placed(_ended)


trends.register(trends.Metric(METRIC, counts, monthly=True, count_hours=counts_by_hour))


def percentile(histogram: dict[int, int], share: float) -> int | None:
    """The upper bound of the bucket where the cumulative count reaches ``share`` of it."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= share * total:
            return upper_of(bucket)
    return upper_of(max(histogram))  # pragma: no cover  (share <= 1 is reached above)


def _median_of(counted: dict[int, int]) -> int:
    """The value at least half of the counted orders have, or less (exact values: promises)."""
    total, seen = sum(counted.values()), 0
    for value in sorted(counted):
        seen += counted[value]
        if seen * 2 >= total:
            return value
    return 0


def promised_hours(dimension: str, promised: dict[str, dict[str, int]]) -> int:
    """The hours ``dimension``'s package or paper promises (``promised``: the catalogue's
    turnarounds in days)."""
    kind, _sep, code = dimension.partition(":")
    found = promised["packages" if kind == "check" else "papers"]
    return found.get(code, settings.ORDER_DEFAULT_TURNAROUND_DAYS) * DAY


def months_of(period: charts.Period) -> list[datetime]:
    """The local first midnights of the months the period touches (whole months: a month's
    turnaround is read from its histogram)."""
    start, end, _days = charts.days_of(period)
    months = [trends.month_of(start)]
    while (following := trends.month_of(months[-1] + timedelta(days=32))) < end:
        months.append(following)
    return months


def histograms(request, period: charts.Period) -> dict[tuple[datetime, str], dict[int, int]] | None:
    """{(month, dimension): {bucket: n}} of the period's months, for the kinds the reader may
    open: one query of the month rollups, kept on the request for both charts."""
    kinds = reader_kinds(request)
    if not kinds:
        return None
    kept = getattr(request, "_turnaround_histograms", {})
    if period.key in kept:
        return kept[period.key]
    months = months_of(period)
    rows = TrendRollup.objects.filter(
        metric=METRIC, grain=Grain.MONTH, bucket__gte=months[0], bucket__lte=months[-1]
    )
    if len(kinds) == 1:
        rows = rows.filter(dimension__startswith=f"{kinds[0]}:")
    found: dict[tuple[datetime, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for month, dimension, outcome, n in rows.values_list("bucket", "dimension", "outcome", "count"):
        found[month, dimension][int(outcome)] += n
    kept[period.key] = found
    request._turnaround_histograms = kept
    return found


def _figures(labels: list[str], groups: list[dict[str, dict[int, int]]]) -> charts.Figures:
    """Per label, the median and 90th percentile of its histograms and the median promise."""
    values: dict[str, list[int]] = {"p90": [], "median": [], "promised": []}
    promised = turnarounds()
    for by_dimension in groups:
        merged: dict[int, int] = defaultdict(int)
        promises: dict[int, int] = defaultdict(int)
        for dimension, histogram in by_dimension.items():
            for bucket, n in histogram.items():
                merged[bucket] += n
            promises[promised_hours(dimension, promised)] += sum(histogram.values())
        values["p90"].append(percentile(merged, 0.9) or 0)
        values["median"].append(percentile(merged, 0.5) or 0)
        values["promised"].append(_median_of(promises))
    return charts.Figures(labels, values)


def per_month(request, period: charts.Period) -> charts.Figures | None:
    found = histograms(request, period)
    if found is None:
        return None
    months = months_of(period)
    groups: list[dict[str, dict[int, int]]] = [{} for _m in months]
    for (month, dimension), histogram in found.items():
        if month in months:
            groups[months.index(month)][dimension] = histogram
    labels = [f"{timezone.localtime(m):%Y-%m}" for m in months]
    return _figures(labels, groups)


PACKAGES_SHOWN = 15  # the busiest: more bars than that cannot be read at 1366 pixels


def per_package(request, period: charts.Period) -> charts.Figures | None:
    found = histograms(request, period)
    if found is None:
        return None
    by_dimension: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (_month, dimension), histogram in found.items():
        for bucket, n in histogram.items():
            by_dimension[dimension][bucket] += n
    busiest = sorted(by_dimension, key=lambda d: (-sum(by_dimension[d].values()), d))[:PACKAGES_SHOWN]
    labels = [d.partition(":")[2] or str(_("none")) for d in busiest]
    return _figures(labels, [{d: by_dimension[d]} for d in busiest])


SERIES = (
    charts.Series("p90", _("90th percentile"), "#8fb3c7"),
    charts.Series("median", _("Median"), "#417690"),
    charts.Series("promised", _("Promised"), "#ba2121", marker=True),
)
charts.register(
    charts.Chart(
        name="orders-turnaround-per-month",
        title=_("Turnaround per month"),
        description=_(
            "Hours from an order's receipt to its result (background checks completed, exams scored), by "
            "the month it ended in: light bars the 90th percentile, dark bars the median, the red line the "
            "turnaround promised to half the month's orders or more. A figure is the upper bound of its "
            "hour, six-hour or day bucket; sixty days or more show as 1,440. The same figures are in the "
            "table below."
        ),
        unit=_("hours"),
        bucket_label=_("month"),
        series=SERIES,
        figures=per_month,
    )
)
charts.register(
    charts.Chart(
        name="orders-turnaround-per-package",
        title=_("Turnaround per package or paper, the 15 busiest"),
        description=_(
            "Hours from an order's receipt to its result (background checks completed, exams scored), per "
            "package or exam paper, the 15 with the most results in the period: light bars the 90th "
            "percentile, dark bars the median, the red line the turnaround the package or paper promises. "
            "A figure is the upper bound of its hour, six-hour or day bucket; sixty days or more show as "
            "1,440. The same figures are in the table below."
        ),
        unit=_("hours"),
        bucket_label=_("package or paper"),
        series=SERIES,
        figures=per_package,
    )
)
