"""The orders' trends for vendor operations: orders received per day (background checks and
exams), and orders ended per day by how they ended (completed, canceled by the customer,
terminated by us; exams scored or graded). Kept by hireops.core.trends from the marks
``intake`` and ``writes`` write with each order they create or end."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.contrib import admin
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendDirtyBucket

from .models import BackgroundCheck, CheckState, Exam

RECEIVED = "orders.received"  # by received_at: dimension the kind of order
ENDED = "orders.ended"  # by ended_at: dimension the kind, outcome the state it ended in
TURNAROUND = "orders.turnaround"  # by ended_at: a histogram of turnarounds (orders.turnaround)
KINDS: dict[str, type[BackgroundCheck] | type[Exam]] = {"check": BackgroundCheck, "exam": Exam}


def _counted(field: str, start: datetime, end: datetime, by_state: bool) -> Iterable[tuple[str, str, int]]:
    for kind, model in KINDS.items():
        rows = model._default_manager.filter(**{f"{field}__gte": start, f"{field}__lt": end}).order_by()
        if by_state:
            for state, n in rows.values_list("state").annotate(n=Count("id")).values_list("state", "n"):
                yield kind, state, n
        else:
            yield kind, "", rows.count()


def received(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    return _counted("received_at", start, end, by_state=False)


def ended(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    return _counted("ended_at", start, end, by_state=True)


def mark_received(moment: datetime) -> None:
    trends.mark(RECEIVED, [moment])


# The metrics that follow an order's end (their rows are counted by ``ended_at``), marked
# together in one statement.
FOLLOW_THE_END = [ENDED, TURNAROUND]


def mark_ended(moments: Iterable[datetime | None]) -> None:
    """The hours an order ended in, before and after a change (a result sent again moves it)."""
    hours = sorted({trends.hour_of(m) for m in moments if m is not None})
    TrendDirtyBucket.objects.bulk_create(
        [TrendDirtyBucket(metric=metric, bucket=h) for metric in FOLLOW_THE_END for h in hours],
        ignore_conflicts=True,
    )


trends.register(trends.Metric(RECEIVED, received))
trends.register(trends.Metric(ENDED, ended))


# The chart of vendor operations: whoever may open the background checks or the exams.

TERMINATED_STATES = (CheckState.CANCELED, CheckState.TERMINATED)


def reader_kinds(request) -> list[str]:
    return [
        kind
        for kind, model in KINDS.items()
        if admin.site.get_model_admin(model).has_view_permission(request)
    ]


def per_day(request, period: charts.Period) -> charts.Figures | None:
    kinds = reader_kinds(request)
    if not kinds:
        return None
    start, end, days = charts.days_of(period)
    values: dict[str, dict] = {
        "received": defaultdict(int),
        "completed": defaultdict(int),
        "ended": defaultdict(int),
    }
    for (bucket, _o), n in trends.series(RECEIVED, Grain.DAY, start, end, kinds).items():
        values["received"][timezone.localtime(bucket).date()] += n
    for (bucket, state), n in trends.series(ENDED, Grain.DAY, start, end, kinds).items():
        key = "ended" if state in TERMINATED_STATES else "completed"
        values[key][timezone.localtime(bucket).date()] += n
    listed = {key: [found[d] for d in days] for key, found in values.items()}
    return charts.by_week(days, listed) if period.grain == "week" else charts.Figures(list(days), listed)


charts.register(
    charts.Chart(
        name="orders-per-day",
        title=_("Orders received and ended per day"),
        description=_(
            "Bars: the background checks and exams received each day (a week's bars in a year); in green "
            "those that ended that day with a result or a score, in red those canceled by the customer or "
            "terminated by us. The same figures are in the table below."
        ),
        unit=_("orders"),
        bucket_label=_("day"),
        series=(
            charts.Series("received", _("Received"), "#417690"),
            charts.Series("completed", _("Ended with a result"), "#2e7d32", overlay=True),
            charts.Series("ended", _("Canceled or terminated"), "#ba2121", overlay=True),
        ),
        figures=per_day,
    )
)
