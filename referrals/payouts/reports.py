"""What a payout run's page and the API report of it: its progress and time left, what was paid,
and the lines that need a person."""

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from hireops.core.models import CallStatus

from .amounts import BATCH, add_totals, totals_json
from .dispatch import seconds_per_line
from .models import PayoutLine, PayoutRun, PayoutRunStatus

RECENT = timedelta(minutes=1)  # the pace a run's time left is estimated from


# --- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    lines: int
    paid: int
    held: int
    failed: int
    to_pay: int
    seconds_left: float | None  # at the quota, the slowest tenant's remaining lines; None: done

    @property
    def done(self) -> int:
        return self.paid + self.held + self.failed

    @property
    def minutes_left(self) -> int | None:
        return None if self.seconds_left is None else max(1, math.ceil(self.seconds_left / 60))

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.lines) if self.lines else 100


def run_progress(run: PayoutRun) -> Progress:
    counts = {"paid": 0, "held": 0, "failed": 0, "to_pay": 0}
    slowest = 0
    rows = (
        PayoutLine.objects.filter(run=run)
        .values("tenant_key", "status", "held")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_tenant: dict[str, int] = {}
    for row in rows:
        if row["status"] == CallStatus.SUCCEEDED:
            counts["paid"] += row["n"]
        elif row["status"] == CallStatus.QUEUED:
            counts["to_pay"] += row["n"]
            per_tenant[row["tenant_key"]] = per_tenant.get(row["tenant_key"], 0) + row["n"]
        elif row["held"]:
            counts["held"] += row["n"]
        else:
            counts["failed"] += row["n"]
    if per_tenant:
        slowest = max(per_tenant.values())
    seconds = None
    if run.status == PayoutRunStatus.PAYING and slowest:
        # The quota bounds it (the tenant with the most lines left); so do the workers, at the
        # pace of the last minute when that is slower.
        seconds = slowest * seconds_per_line()
        recent = PayoutLine.objects.filter(run=run, finished_at__gte=timezone.now() - RECENT).count()
        if recent:
            seconds = max(seconds, counts["to_pay"] * RECENT.total_seconds() / recent)
    return Progress(lines=sum(counts.values()), seconds_left=seconds, **counts)


def paid_totals(run: PayoutRun) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    paid = PayoutLine.objects.filter(run=run, status=CallStatus.SUCCEEDED, withdrawn_cash__isnull=False)
    for cash in paid.values_list("withdrawn_cash", flat=True).iterator(chunk_size=BATCH):
        add_totals(totals, cash)  # type: ignore[arg-type]  # a paid line's cash is recorded
    return totals_json(totals)


def lines_needing_a_person(run: PayoutRun):
    """Held lines, failed ones and paid ones whose amount differs from the approved one."""
    return PayoutLine.objects.filter(run=run).filter(
        Q(held=True) | Q(status=CallStatus.FAILED) | (Q(status=CallStatus.SUCCEEDED) & ~Q(error=""))
    )
