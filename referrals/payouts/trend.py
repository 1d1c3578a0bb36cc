"""The payout runs' trend: what each run paid, per currency, per hour its lines were paid in
(``finished_at`` of the lines Feishu confirmed). The dimension is the currency, the outcome the
run's number: a chart reads each run's total from the rollups. Kept by hireops.core.trends from
the mark ``payment`` writes with the lines it closes as paid."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from hireops.core import trends
from hireops.core.models import CallStatus

from ..accounts.cash import cash_hundredths
from .models import PayoutLine

METRIC = "referrals.payouts"
LINES = ""  # the dimension of the number of lines paid (the others are currencies)


Row = tuple[int, dict | None]  # (run, cash) of a line


def _paid(start: datetime, end: datetime) -> Iterable[tuple[datetime | None, Row]]:
    rows = PayoutLine.objects.filter(
        status=CallStatus.SUCCEEDED, finished_at__gte=start, finished_at__lt=end
    ).order_by()
    found = rows.values_list("finished_at", "run_id", "withdrawn_cash").iterator(chunk_size=2000)
    return ((at, (run, cash)) for at, run, cash in found)


def _summed(rows: Iterable[Row]) -> Iterable[tuple[str, str, int]]:
    """(currency, run, hundredths paid) and ("", run, lines paid) of these lines."""
    summed: dict[tuple[str, str], int] = defaultdict(int)
    for run, cash in rows:
        summed[LINES, str(run)] += 1
        for currency, n in cash_hundredths(cash):
            summed[currency, str(run)] += n
    return [(currency, number, n) for (currency, number), n in summed.items()]


# The lines paid in an hour (``finished_at``), or a batch of hours a span at a time.
counted, counted_by_hour = trends.summed(_paid, _summed)


def mark_paid(moments: Iterable[datetime | None]) -> None:
    """The hours lines were paid in, in the transaction that closes them."""
    trends.mark(METRIC, moments)


trends.register(trends.Metric(METRIC, counted, count_hours=counted_by_hour))
