"""The withdrawals' trend: the withdrawals Feishu confirmed (the admin's, a leaver's, a payout
run's lines), per hour they were confirmed in (``finished_at``), their number and what they
took out per currency (points apart). Kept by hireops.core.trends from the marks written where
a withdrawal is confirmed (``withdrawals.services``, ``payouts.payment``)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet

from hireops.core import trends
from hireops.core.models import CallStatus

from .models import Withdrawal

METRIC = "referrals.withdrawals"
POINTS = "points"  # the unit of points; every other unit is a currency code
ROWS = ""  # the dimension of the rows' number (the others are units)


def _confirmed(start: datetime, end: datetime) -> QuerySet:
    return Withdrawal.objects.filter(
        status=CallStatus.SUCCEEDED, finished_at__gte=start, finished_at__lt=end
    ).order_by()


def _summed(rows: Iterable[tuple[int | None, dict | None]]) -> Iterable[tuple[str, str, int]]:
    """(unit, "", amount) per unit (cash in hundredths) and ("", "", number) of these
    withdrawals' (points, cash). The cash is a JSON object per row: summed here."""
    summed: dict[str, int] = defaultdict(int)
    for points, cash in rows:
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


def counted(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    """The withdrawals confirmed in [start, end), an hour's rows at a time."""
    rows = _confirmed(start, end).values_list("withdrawn_points", "withdrawn_cash")
    return _summed(rows.iterator(chunk_size=2000))


def counted_by_hour(hours: list[datetime]) -> Iterable[tuple[datetime, str, str, int]]:
    """``counted`` for a batch of hours: a span of hours close together read in one query
    (``trends.spans``), its rows summed by the hour they were confirmed in."""
    wanted = set(hours)
    for start, end in trends.spans(hours):
        by_hour: dict[datetime, list] = defaultdict(list)
        rows = _confirmed(start, end).values_list("finished_at", "withdrawn_points", "withdrawn_cash")
        for finished_at, points, cash in rows.iterator(chunk_size=2000):
            by_hour[trends.hour_of(finished_at)].append((points, cash))
        for hour, found in by_hour.items():
            if hour in wanted:
                for unit, outcome, n in _summed(found):
                    yield hour, unit, outcome, n


def mark_confirmed(moments: Iterable[datetime | None]) -> None:
    """The hours withdrawals were confirmed in, in the transaction that closes them."""
    trends.mark(METRIC, moments)


trends.register(trends.Metric(METRIC, counted, count_hours=counted_by_hour))
