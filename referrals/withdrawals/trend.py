"""The withdrawals' trend: the withdrawals Feishu confirmed (the admin's, a leaver's, a payout
run's lines), per hour they were confirmed in (``finished_at``), their number and what they
took out per currency (points apart). Kept by hireops.core.trends from the marks written where
a withdrawal is confirmed (``withdrawals.services``, ``payouts.payment``)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from hireops.core import trends
from hireops.core.models import CallStatus

from .models import Withdrawal

METRIC = "referrals.withdrawals"
POINTS = "points"  # the unit of points; every other unit is a currency code
ROWS = ""  # the dimension of the rows' number (the others are units)


def counted(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    """(unit, "", amount) per unit (cash in hundredths) and ("", "", number) of the
    withdrawals confirmed in [start, end). The cash is a JSON object per row: summed here, an
    hour's rows at a time."""
    rows = Withdrawal.objects.filter(
        status=CallStatus.SUCCEEDED, finished_at__gte=start, finished_at__lt=end
    ).order_by()
    summed: dict[str, int] = defaultdict(int)
    for points, cash in rows.values_list("withdrawn_points", "withdrawn_cash").iterator(chunk_size=2000):
        summed[ROWS] += 1
        summed[POINTS] += points or 0
        for currency, amount in (cash or {}).items():
            try:
                summed[currency] += int(Decimal(str(amount)).scaleb(2).to_integral_value())
            except (InvalidOperation, ValueError):  # kept as Feishu said it; nothing to add up
                continue
    for unit, n in summed.items():
        if n or unit == ROWS:
            yield unit, "", n


def mark_confirmed(moments: Iterable[datetime | None]) -> None:
    """The hours withdrawals were confirmed in, in the transaction that closes them."""
    trends.mark(METRIC, moments)


trends.register(trends.Metric(METRIC, counted))
