"""HR's chart of what the referral programme owes: the cash held on the referral accounts at
the end of each day, one bar per currency (never added across currencies), and the points in a
chart of their own (a count of points beside amounts of money would flatten the money's bars).
Read from ``referrals.owed`` (``accounts.owed``): the period's day rollups, everything before
it folded into its first day, in one query both charts share."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import admin
from django.db.models import Case, DateTimeField, F, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

from .accounts import owed
from .accounts.models import ReferralAccount

PALETTE = ("#205067", "#8a5a00", "#2e6b30", "#6a2c70", "#ba2121", "#417690")


def _levels(request, period: charts.Period) -> tuple[list[date], dict[str, list[int]]] | None:
    """The period's days and {unit: the level at the end of each day}, for whoever may open
    the referral accounts; read once per request for both charts."""
    if not admin.site.get_model_admin(ReferralAccount).has_view_permission(request):
        return None
    kept = getattr(request, "_referral_owed", {})
    if period.key not in kept:
        start, end, days = charts.days_of(period)
        before = When(bucket__lt=start, then=Value(start))  # folded into the first day
        day = Case(before, default=F("bucket"), output_field=DateTimeField())
        summed = (
            TrendRollup.objects.filter(metric=owed.METRIC, grain=Grain.DAY, bucket__lt=end)
            .order_by()
            .annotate(day=day)
            .values_list("day", "dimension")
            .annotate(n=Sum("count"))
        )
        change: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for moment, unit, n in summed:
            change[unit][timezone.localtime(moment).date()] += n
        levels: dict[str, list[int]] = {}
        for unit, by_day in change.items():
            level, levels[unit] = 0, []
            for d in days:
                level += by_day[d]
                levels[unit].append(level)
        kept[period.key] = (days, levels)
        request._referral_owed = kept
    return kept[period.key]


def _figures(days: list[date], values: dict[str, list], period: charts.Period, series) -> charts.Figures:
    if period.grain == "week":  # a week's bar: its last day's level, not a sum of levels
        weeks = [d - timedelta(days=d.weekday()) for d in days]
        last = {key: dict(zip(weeks, column, strict=True)) for key, column in values.items()}
        buckets = list(dict.fromkeys(weeks))
        return charts.Figures(buckets, {k: [last[k][w] for w in buckets] for k in values}, series)
    return charts.Figures(days, values, series)


def cash_owed(request, period: charts.Period) -> charts.Figures | None:
    found = _levels(request, period)
    if found is None:
        return None
    days, levels = found
    currencies = sorted(unit for unit in levels if unit != owed.POINTS)
    series = tuple(charts.Series(c, c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(currencies))
    values = {c: [Decimal(n).scaleb(-2) for n in levels[c]] for c in currencies}
    return _figures(days, values, period, series)


def points_owed(request, period: charts.Period) -> charts.Figures | None:
    found = _levels(request, period)
    if found is None:
        return None
    days, levels = found
    shown = (charts.Series(owed.POINTS, _("Points"), PALETTE[0]),) if owed.POINTS in levels else ()
    return _figures(days, {s.key: levels[s.key] for s in shown}, period, shown)


charts.register(
    charts.Chart(
        name="referral-cash-owed",
        title=_("Cash owed on referral accounts, by currency"),
        description=_(
            "Bars: the cash the referral accounts hold at the end of each day (a week's bar: its last "
            "day; today: now), deactivated accounts included, since Feishu keeps their balance for the "
            "employee. One bar per currency: amounts of different currencies are never added together. "
            "The same figures are in the table below."
        ),
        unit=_("amount, in each bar's currency"),
        bucket_label=_("day"),
        series=(),
        figures=cash_owed,
    )
)
charts.register(
    charts.Chart(
        name="referral-points-owed",
        title=_("Points owed on referral accounts"),
        description=_(
            "Bars: the points the referral accounts hold at the end of each day (a week's bar: its last "
            "day; today: now), deactivated accounts included, since Feishu keeps their balance for the "
            "employee. The same figures are in the table below."
        ),
        unit=_("points"),
        bucket_label=_("day"),
        series=(),
        figures=points_owed,
    )
)
