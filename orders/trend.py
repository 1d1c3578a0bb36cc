"""The orders' trends for vendor operations: orders received per day (background checks and
exams), and orders ended per day by how they ended (completed, canceled by the customer,
terminated by us; exams scored or graded). Kept by hireops.core.trends from the marks
``intake`` and ``writes`` write with each order they create or end."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Value
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import TrendDirtyBucket

from .catalogue.turnarounds import turnarounds
from .daily import ENDED, OVERDUE, RECEIVED, TURNAROUND, USAGE, day_rows
from .models import BackgroundCheck, CheckState, Exam

KINDS: dict[str, type[BackgroundCheck] | type[Exam]] = {"check": BackgroundCheck, "exam": Exam}


# (kind, "", n) of the orders received in each hour, and (kind, state, n) of those ended.
received, received_by_hour = trends.grouped(
    *(
        trends.Counted(model._default_manager.all, "received_at", Value(kind), Value(""))
        for kind, model in KINDS.items()
    )
)
ended, ended_by_hour = trends.grouped(
    *(
        trends.Counted(model._default_manager.all, "ended_at", Value(kind), "state")
        for kind, model in KINDS.items()
    )
)


def promised_days(kind: str, code: str) -> int:
    """The turnaround the catalogue promises for a package (a check) or a paper (an exam)."""
    found = turnarounds()["packages" if kind == "check" else "papers"]
    return found.get(code, settings.ORDER_DEFAULT_TURNAROUND_DAYS)


def due_of(kind: str, code: str, received: datetime) -> datetime:
    """When an order received at ``received`` falls overdue if still open."""
    return received + timedelta(days=promised_days(kind, code))


def _mark(hours_of: dict[str, Iterable[datetime | None]]) -> None:
    """Several metrics' hours in one statement."""
    marks = [
        TrendDirtyBucket(metric=metric, bucket=hour)
        for metric, moments in hours_of.items()
        for hour in sorted({trends.hour_of(m) for m in moments if m is not None})
    ]
    TrendDirtyBucket.objects.bulk_create(marks, ignore_conflicts=True)


def mark_received(moment: datetime, due: datetime | None = None) -> None:
    """An order received at ``moment``: the hour it counts in, and the one it falls due in."""
    _mark({RECEIVED: [moment], USAGE: [moment], OVERDUE: [due]})


# The metrics that follow an order's end (their rows are counted by ``ended_at``, and the
# overdue ones by the later of the end and the due moment), marked together in one statement.
FOLLOW_THE_END = (ENDED, TURNAROUND, OVERDUE, USAGE)


def mark_ended(moments: Iterable[datetime | None]) -> None:
    """The hours an order ended in, before and after a change (a result sent again moves it),
    and the hour it falls due in (``end_moments``)."""
    moments = list(moments)
    _mark(dict.fromkeys(FOLLOW_THE_END, moments))


def end_moments(checks=None, exams=None) -> list[datetime | None]:
    """The ends and due moments of the orders in ``checks`` and ``exams`` (querysets), for
    ``mark_ended`` before and after a change: one query of each."""
    found: list[datetime | None] = []
    for kind, rows, code in (("check", checks, "package_id"), ("exam", exams, "paper_id")):
        if rows is None:
            continue
        for ended, received, entry in rows.values_list("ended_at", "received_at", code):
            found += [ended, due_of(kind, entry, received)]
    return found


trends.register(trends.Metric(RECEIVED, received, count_hours=received_by_hour))
trends.register(trends.Metric(ENDED, ended, count_hours=ended_by_hour))


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
    values: dict[str, dict] = {
        "received": defaultdict(int),
        "completed": defaultdict(int),
        "ended": defaultdict(int),
    }
    for (metric, day, kind, outcome), n in day_rows(request, period).items():
        if kind not in kinds:
            continue
        if metric == RECEIVED:
            values["received"][day] += n
        elif metric == ENDED:
            values["ended" if outcome in TERMINATED_STATES else "completed"][day] += n
    return charts.over_days(period, values)


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
