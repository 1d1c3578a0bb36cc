"""Orders overdue, now and over time: a level, kept as the moments it changes.

An order is overdue while it is open past the turnaround its package (a check) or paper (an
exam) promises (``orders.selectors``: the catalogue's ``turnaround_days`` now). Each order
that is ever overdue enters the level once, when it falls due (received + promise), and leaves
it once, when it ends (its end, if that comes after the due moment). ``orders.overdue`` counts
those moments per hour: outcome ``in`` by the due moment (orders still open then), ``out`` by
the end (orders that ended overdue); an order that ended in time counts in neither. The level
at any moment is every ``in`` up to it less every ``out`` up to it: the chart reads the days of
the period and one sum of everything before it, in the query the orders' daily charts share
(``trend.day_rows``).

Both moments come from the order's row and the catalogue, so the rollups are recomputed like
any other (``tests/orders/test_trend_orders_random.py`` compares them with a GROUP BY). The
due moment is known when the order is received: the intake marks its hour, which may be in the
future (the chart reads up to the current hour only). The writes that end an order mark its
end and due hours before and after (``trend.end_moments``). A change of a promise (or of a code, or
an entry removed) moves the due moments of the orders of that package or paper: a signal before
each save or deletion of an entry marks their hours (every writer of the catalogue saves or
deletes the entries one by one: the admin, the API, the services).
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, signals
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.trends import charts

from .catalogue.models import ExamPaper, Package
from .models import BackgroundCheck, Exam
from .trend import OVERDUE, day_rows, mark_ended, reader_kinds

IN, OUT = "in", "out"
Order = type[BackgroundCheck] | type[Exam]
ORDERS: tuple[tuple[str, Order, str, type[Package] | type[ExamPaper]], ...] = (
    ("check", BackgroundCheck, "package_id", Package),
    ("exam", Exam, "paper_id", ExamPaper),
)


def _groups(promised: dict[str, int], field: str) -> list[tuple[Q, timedelta]]:
    """(which orders, their promise): one per distinct turnaround, and the default for the
    codes the catalogue does not have."""
    by_days: dict[int, list[str]] = defaultdict(list)
    for code, days in promised.items():
        by_days[days].append(code)
    default = timedelta(days=settings.ORDER_DEFAULT_TURNAROUND_DAYS)
    return [(~Q(**{f"{field}__in": list(promised)}), default)] + [
        (Q(**{f"{field}__in": codes}), timedelta(days=days)) for days, codes in sorted(by_days.items())
    ]


def _promised(entries: type[Package] | type[ExamPaper]) -> dict[str, int]:
    # The catalogue as committed (not the cached turnarounds): a change committing now marks
    # the hours it moves again, and their next recomputation reads it.
    return dict(entries._default_manager.values_list("code", "turnaround_days"))


def _moments(
    model: Order, field: str, promised: dict[str, int], start: datetime, end: datetime
) -> Iterator[tuple[datetime, str]]:
    """(moment, in/out) of the orders falling due in [start, end) still open then (``in``, at
    their due moment) and of those ending in [start, end) after it (``out``, at their end).

    One query: an index range of received_at per distinct turnaround, and one of ended_at,
    finds the orders that may count; each is placed here, by the same rule."""
    default = settings.ORDER_DEFAULT_TURNAROUND_DAYS
    falls_due, ends_late = Q(pk__in=[]), Q(pk__in=[])
    for orders, days in _groups(promised, field):
        due = F("received_at") + days
        still_open = Q(ended_at__isnull=True) | Q(ended_at__gte=due)
        falls_due |= orders & Q(received_at__gte=start - days, received_at__lt=end - days) & still_open
        ends_late |= orders & Q(ended_at__gte=due)
    ends_late &= Q(ended_at__gte=start, ended_at__lt=end)
    rows = model._default_manager.filter(falls_due | ends_late).values_list("received_at", "ended_at", field)
    for received, ended, code in rows.iterator(chunk_size=2000):  # a batch's spans: many rows
        due = received + timedelta(days=promised.get(code, default))
        if ended is not None and ended < due:
            continue  # ended in time: never overdue
        if start <= due < end:
            yield due, IN
        if ended is not None and start <= ended < end:
            yield ended, OUT


def _overdue(start: datetime, end: datetime) -> Iterator[tuple[datetime, str, str]]:
    """(moment, kind, in/out) of the orders of both kinds, against the catalogue as committed."""
    for kind, model, field, entries in ORDERS:
        for moment, outcome in _moments(model, field, _promised(entries), start, end):
            yield moment, kind, outcome


# (kind, in/out, n): orders falling due in [start, end) still open then, and orders ending in
# [start, end) after their due moment; and of a batch of hours by hour, by one rule.
counts, counts_by_hour = trends.placed(_overdue)


def _longest_promise() -> timedelta:
    """How far ahead an order received now may fall due."""
    longest = [settings.ORDER_DEFAULT_TURNAROUND_DAYS]
    for _kind, _model, _field, entries in ORDERS:
        longest += entries._default_manager.values_list("turnaround_days", flat=True)
    return timedelta(days=max(longest))


trends.register(trends.Metric(OVERDUE, counts, ahead=_longest_promise, count_hours=counts_by_hour))


def _entry_changed(kind: str, old: tuple[str, int] | None, new: tuple[str, int] | None) -> None:
    """A package's or paper's code or promise changes from ``old`` to ``new`` ((code, days);
    None: not there): the orders of either code fall due at other moments. Their due hours
    under both promises and their end hours are marked, in the transaction of the change."""
    default = settings.ORDER_DEFAULT_TURNAROUND_DAYS
    if old == new:
        return
    model, field = next((m, f) for k, m, f, _c in ORDERS if k == kind)
    codes = {entry[0] for entry in (old, new) if entry is not None}
    moments: list[datetime | None] = []
    for received, ended, code in (
        model._default_manager.filter(**{f"{field}__in": codes})
        .values_list("received_at", "ended_at", field)
        .iterator()
    ):
        before = old[1] if old and old[0] == code else default
        after = new[1] if new and new[0] == code else default
        moments += [ended, received + timedelta(days=before), received + timedelta(days=after)]
    mark_ended(moments)


def _saving(sender, instance, **kwargs) -> None:
    kind = "check" if sender is Package else "exam"
    old = sender._default_manager.filter(pk=instance.pk).values_list("code", "turnaround_days").first()
    _entry_changed(kind, old, (instance.code, instance.turnaround_days))


def _deleting(sender, instance, **kwargs) -> None:
    kind = "check" if sender is Package else "exam"
    _entry_changed(kind, (instance.code, instance.turnaround_days), None)


for entry_model in (Package, ExamPaper):
    signals.pre_save.connect(_saving, sender=entry_model, dispatch_uid=f"overdue-save-{entry_model.__name__}")
    signals.pre_delete.connect(
        _deleting, sender=entry_model, dispatch_uid=f"overdue-delete-{entry_model.__name__}"
    )


# The chart: the level at the end of each day (today: now, to the hour).


def levels(request, period: charts.Period) -> charts.Figures | None:
    kinds = reader_kinds(request)
    if not kinds:
        return None
    _start, _end, days = charts.days_of(period)
    change: dict = defaultdict(int)
    for (metric, day, kind, outcome), n in day_rows(request, period).items():
        if metric == OVERDUE and kind in kinds:
            change[day] += n if outcome == IN else -n
    level, values = 0, []
    for d in days:
        level += change[d]
        values.append(level)
    if period.grain == "week":  # a week's bar: its last day's level, not a sum of levels
        last = {d - timedelta(days=d.weekday()): v for d, v in zip(days, values, strict=True)}
        return charts.Figures(list(last), {"overdue": list(last.values())})
    return charts.Figures(list(days), {"overdue": values})


charts.register(
    charts.Chart(
        name="orders-overdue",
        title=_("Orders overdue"),
        description=_(
            "Bars: the background checks and exams open past the turnaround their package or paper "
            "promises, at the end of each day (a week's bar: its last day; today: now, to the hour), "
            "against the promises in the catalogue now. The same figures are in the table below."
        ),
        unit=_("orders"),
        bucket_label=_("day"),
        series=(charts.Series("overdue", _("Overdue"), "#ba2121"),),
        figures=levels,
    )
)
