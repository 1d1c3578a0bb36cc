"""The payout runs' trend: what each run paid, per currency, per hour its lines were paid in
(``finished_at`` of the lines Feishu confirmed). The dimension is the currency, the outcome the
run's number: a chart reads each run's total from the rollups. Kept by hireops.core.trends from
the mark ``payment`` writes with the lines it closes as paid."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet

from hireops.core import trends
from hireops.core.models import CallStatus

from .models import PayoutLine

METRIC = "referrals.payouts"
LINES = ""  # the dimension of the number of lines paid (the others are currencies)


def _paid(start: datetime, end: datetime) -> QuerySet:
    return PayoutLine.objects.filter(
        status=CallStatus.SUCCEEDED, finished_at__gte=start, finished_at__lt=end
    ).order_by()


def _summed(rows: Iterable[tuple[int, dict | None]]) -> Iterable[tuple[str, str, int]]:
    """(currency, run, hundredths paid) and ("", run, lines paid) of these lines' (run, cash)."""
    summed: dict[tuple[str, str], int] = defaultdict(int)
    for run, cash in rows:
        summed[LINES, str(run)] += 1
        for currency, amount in (cash or {}).items():
            try:
                summed[currency, str(run)] += int(Decimal(str(amount)).scaleb(2).to_integral_value())
            except (InvalidOperation, ValueError):  # kept as Feishu said it; nothing to add up
                continue
    for (currency, number), n in summed.items():
        yield currency, number, n


def counted(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    """The lines paid in [start, end)."""
    return _summed(_paid(start, end).values_list("run_id", "withdrawn_cash").iterator(chunk_size=2000))


def counted_by_hour(hours: list[datetime]) -> Iterable[tuple[datetime, str, str, int]]:
    """``counted`` for a batch of hours: a span of hours close together read in one query
    (``trends.spans``), its lines summed by the hour they were paid in."""
    wanted = set(hours)
    for start, end in trends.spans(hours):
        by_hour: dict[datetime, list] = defaultdict(list)
        rows = _paid(start, end).values_list("finished_at", "run_id", "withdrawn_cash")
        for finished_at, run, cash in rows.iterator(chunk_size=2000):
            by_hour[trends.hour_of(finished_at)].append((run, cash))
        for hour, found in by_hour.items():
            if hour in wanted:
                for currency, number, n in _summed(found):
                    yield hour, currency, number, n


def mark_paid(moments: Iterable[datetime | None]) -> None:
    """The hours lines were paid in, in the transaction that closes them."""
    trends.mark(METRIC, moments)


trends.register(trends.Metric(METRIC, counted, count_hours=counted_by_hour))
