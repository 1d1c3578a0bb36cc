"""The withdrawals' trend: the withdrawals Feishu confirmed (the admin's, a leaver's, a payout
run's lines), per hour they were confirmed in (``finished_at``), their number and what they
took out per currency (points apart). Kept by hireops.core.trends from the marks written where
a withdrawal is confirmed (``withdrawals.services``, ``payouts.payment``)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from hireops.core import trends
from hireops.core.models import CallStatus

from ..accounts.cash import cash_hundredths
from .models import Withdrawal

METRIC = "referrals.withdrawals"
POINTS = "points"  # the unit of points; every other unit is a currency code
ROWS = ""  # the dimension of the rows' number (the others are units)


Row = tuple[int | None, dict | None]  # (points, cash) of a withdrawal


def _confirmed(start: datetime, end: datetime) -> Iterable[tuple[datetime | None, Row]]:
    rows = Withdrawal.objects.filter(
        status=CallStatus.SUCCEEDED, finished_at__gte=start, finished_at__lt=end
    ).order_by()
    found = rows.values_list("finished_at", "withdrawn_points", "withdrawn_cash").iterator(chunk_size=2000)
    return ((at, (points, cash)) for at, points, cash in found)


def _summed(rows: Iterable[Row]) -> Iterable[tuple[str, str, int]]:
    """(unit, "", amount) per unit (cash in hundredths) and ("", "", number) of these
    withdrawals. The cash is a JSON object per row: summed here."""
    summed: dict[str, int] = defaultdict(int)
    for points, cash in rows:
        summed[ROWS] += 1
        summed[POINTS] += points or 0
        for currency, n in cash_hundredths(cash):
            summed[currency] += n
    return [(unit, "", n) for unit, n in summed.items() if n or unit == ROWS]


# The withdrawals confirmed in an hour (``finished_at``), or a batch of hours a span at a time.
counted, counted_by_hour = trends.summed(_confirmed, _summed)


def mark_confirmed(moments: Iterable[datetime | None]) -> None:
    """The hours withdrawals were confirmed in, in the transaction that closes them."""
    trends.mark(METRIC, moments)


trends.register(trends.Metric(METRIC, counted, count_hours=counted_by_hour))
