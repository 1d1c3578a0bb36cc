"""HR's chart of the leavers: per month they arrived in, how many, by what became of them since
(``leavers.trend.Outcome``: paid in a payout run or at once, deactivated with the balance
recorded, no referral account, marked as handled, in progress, needing a person). Counts only:
no leaver is named. Read from the month rollups of ``referrals.leavers`` (one query)."""

from collections import defaultdict

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

from .leavers import trend
from .leavers.models import Leaver
from .trends import months_of

NAME = "leavers-per-month"
# Done in greens and blues, the ones without a payment in greys, what is still open in amber
# and red: what needs HR stands out at the top of each bar.
COLORS = {
    trend.Outcome.PAID_IN_RUN: "#205067",
    trend.Outcome.PAID_AT_ONCE: "#79aec8",
    trend.Outcome.DEACTIVATED: "#2e6b30",
    trend.Outcome.NO_ACCOUNT: "#8c8c8c",
    trend.Outcome.HANDLED: "#5a5a5a",
    trend.Outcome.IN_PROGRESS: "#e0b050",
    trend.Outcome.NEEDS_PERSON: "#ba2121",
}
SERIES = tuple(charts.Series(o.value, o.label, COLORS[o]) for o in trend.Outcome)


def leavers_per_month(request, period: charts.Period) -> charts.Figures | None:
    """The leavers of each month the period reaches into, by outcome now; None for a reader
    who may not open the leavers."""
    if not admin.site.get_model_admin(Leaver).has_view_permission(request):
        return None
    months, start, end = months_of(period)
    rows = TrendRollup.objects.filter(
        metric=trend.METRIC, grain=Grain.MONTH, bucket__gte=start, bucket__lt=end
    ).values_list("bucket", "outcome", "count")
    found: dict = defaultdict(lambda: defaultdict(int))
    for bucket, outcome, n in rows:
        found[outcome][timezone.localtime(bucket).date()] += n
    values = {s.key: [found[s.key][m] for m in months] for s in SERIES}
    return charts.Figures([f"{m:%Y-%m}" for m in months], values)


charts.register(
    charts.Chart(
        name=NAME,
        title=_("Leavers per month, by what became of them"),
        description=_(
            "One bar for each month: the employees who left that month (as Feishu's directory told "
            "hireops), stacked by what became of them since: paid in a payout run or at once and "
            "deactivated, deactivated with the balance recorded, no referral account, marked as handled, "
            "still in progress, or needing a person. The same figures are in the table below."
        ),
        unit=_("leavers"),
        bucket_label=_("month"),
        series=SERIES,
        figures=leavers_per_month,
        stacked=True,
    )
)
