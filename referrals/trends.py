"""HR's trends on the dashboard: rewards and withdrawals per month, their amounts per currency
(never added across currencies) and their number. Read from the rollups the rewards' and the
withdrawals' trends keep (``rewards.trend``, ``withdrawals.trend``): one query for both charts."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

from .payouts import trend as payouts
from .payouts.models import PayoutRun
from .rewards import trend as rewards
from .rewards.models import ExternalReferralReward
from .withdrawals import trend as withdrawals
from .withdrawals.models import Withdrawal

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

KINDS = (  # (metric, the model whose changelist decides who sees it, its label)
    (rewards.METRIC, ExternalReferralReward, _("Rewards")),
    (withdrawals.METRIC, Withdrawal, _("Withdrawals")),
)
POINTS = rewards.POINTS
# Rewards in dark shades, withdrawals in light ones of the same hue: a currency keeps its colour.
PALETTE = (("#205067", "#79aec8"), ("#8a5a00", "#e0b050"), ("#2e6b30", "#8cc68e"), ("#6a2c70", "#c08cc6"))


def months_of(period: charts.Period) -> tuple[list[date], object, object]:
    """The whole months the period reaches into (its first day's month to this one), with the
    first one's local midnight and the next local midnight after today."""
    _start, end, days = charts.days_of(period)
    month, today = days[0].replace(day=1), timezone.localdate()
    months = []
    while month <= today:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months, charts.midnight(months[0]), end


def _metrics(request) -> list[tuple[str, "StrOrPromise"]]:
    return [
        (metric, label)
        for metric, model, label in KINDS
        if admin.site.get_model_admin(model).has_view_permission(request)
    ]


def _monthly(request, period: charts.Period) -> tuple[list[date], dict] | None:
    """{(metric, unit): {month: sum}} of the metrics the reader may open, read once per request
    for both charts."""
    shown = _metrics(request)
    if not shown:
        return None
    cached = getattr(request, "_referral_money", {})
    if period.key not in cached:
        months, start, end = months_of(period)
        rows = TrendRollup.objects.filter(
            metric__in=[metric for metric, _label in shown],
            grain=Grain.DAY,
            bucket__gte=start,
            bucket__lt=end,
        ).values_list("metric", "bucket", "dimension", "count")
        summed: dict = defaultdict(lambda: defaultdict(int))
        for metric, bucket, unit, n in rows:
            summed[metric, unit][timezone.localtime(bucket).date().replace(day=1)] += n
        cached[period.key] = (months, summed)
        request._referral_money = cached
    return cached[period.key]


def amount(unit: str, n: int) -> Decimal | int:
    """A rollup's sum as the amount it is: points as they are, money from its hundredths."""
    return n if unit == POINTS else Decimal(n).scaleb(-2)


def money_per_month(request, period: charts.Period) -> charts.Figures | None:
    found = _monthly(request, period)
    if found is None:
        return None
    months, summed = found
    units = sorted({unit for _metric, unit in summed if unit != rewards.ROWS}, key=lambda u: (u == POINTS, u))
    series, values = [], {}
    for i, unit in enumerate(units):
        for (metric, label), color in zip(_metrics(request), PALETTE[i % len(PALETTE)], strict=False):
            key = f"{metric}:{unit}"
            # Translated when drawn: the figures are kept whatever the reader's language.
            named = format_lazy("{}, {}", label, unit if unit != POINTS else _("points"))
            series.append(charts.Series(key, named, color))
            values[key] = [amount(unit, summed[metric, unit][m]) for m in months]
    labels = [f"{m:%Y-%m}" for m in months]
    return charts.Figures(labels, values, tuple(series))


def number_per_month(request, period: charts.Period) -> charts.Figures | None:
    found = _monthly(request, period)
    if found is None:
        return None
    months, summed = found
    series, values = [], {}
    for (metric, label), (color, _light) in zip(_metrics(request), PALETTE, strict=False):
        series.append(charts.Series(metric, label, color))
        values[metric] = [summed[metric, rewards.ROWS][m] for m in months]
    return charts.Figures([f"{m:%Y-%m}" for m in months], values, tuple(series))


charts.register(
    charts.Chart(
        name="referral-money-per-month",
        title=_("Rewards and withdrawals per month, by currency"),
        description=_(
            "Bars side by side for each month: the rewards Feishu accepted that month and the withdrawals "
            "it confirmed (payout runs' included), one bar per currency (and for points): amounts of "
            "different currencies are never added together. The same figures are in the table below."
        ),
        unit=_("amount, in each bar's currency"),
        bucket_label=_("month"),
        series=(),
        figures=money_per_month,
    )
)
charts.register(
    charts.Chart(
        name="referral-count-per-month",
        title=_("Rewards and withdrawals per month, by number"),
        description=_(
            "Bars side by side for each month: how many rewards Feishu accepted and how many withdrawals it "
            "confirmed (payout runs' included). The same figures are in the table below."
        ),
        unit=_("rewards or withdrawals"),
        bucket_label=_("month"),
        series=(),
        figures=number_per_month,
    )
)


def runs_paid(request, period: charts.Period) -> charts.Figures | None:
    """What each payout run paid in the period, per currency: a bar per run and currency, the
    runs by number (a run is named by its number and the day its first line was paid)."""
    if not admin.site.get_model_admin(PayoutRun).has_view_permission(request):
        return None
    start, end, _days = charts.days_of(period)
    rows = TrendRollup.objects.filter(
        metric=payouts.METRIC, grain=Grain.DAY, bucket__gte=start, bucket__lt=end
    ).values_list("bucket", "dimension", "outcome", "count")
    paid: dict = defaultdict(lambda: defaultdict(int))
    first: dict[int, date] = {}
    for bucket, currency, run, n in rows:
        day = timezone.localtime(bucket).date()
        first[int(run)] = min(day, first.get(int(run), day))
        if currency != payouts.LINES:
            paid[int(run)][currency] += n
    runs = sorted(first)
    currencies = sorted({c for found in paid.values() for c in found})
    series = tuple(
        charts.Series(currency, currency, PALETTE[i % len(PALETTE)][0])
        for i, currency in enumerate(currencies)
    )
    values = {c: [Decimal(paid[run][c]).scaleb(-2) for run in runs] for c in currencies}
    labels = [f"#{run} · {first[run]:%Y-%m-%d}" for run in runs]
    return charts.Figures(labels, values, series)


charts.register(
    charts.Chart(
        name="payout-runs-paid",
        title=_("What each payout run paid, by currency"),
        description=_(
            "Bars for each payout run that paid lines in the period, named by its number and the day it "
            "first paid: the cash Feishu confirmed it withdrew, one bar per currency (amounts of different "
            "currencies are never added together). The same figures are in the table below."
        ),
        unit=_("amount, in each bar's currency"),
        bucket_label=_("payout run"),
        series=(),
        figures=runs_paid,
    )
)
