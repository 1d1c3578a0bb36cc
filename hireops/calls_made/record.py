"""The record of the calls the engine makes (``CallMade``), and the trends counted from it.

A callee that names a trend (``Callee.trend``: Feishu's calls, partners' webhook deliveries) has
every call of every one of its kinds recorded by the engine itself, in the transaction that
records the call's outcome on the row, with the mark of the trend's hour: an answer, a failure
to be tried again, a final failure, and the end of a row's retries. The kind's own rows cannot
be counted instead: they keep only their last attempt, and services close, requeue and delete
them without any call. A worker killed before its record transaction commits leaves neither
the outcome nor its record: the row is sent again after its lease, and that call is recorded.

The records are kept ``KEEP`` (the daily ``calls_made.prune``); what is pruned stays in the
trends as the hours' pruned counts (``hireops.core.trends.prune``).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hireops.core import trends

KEEP = timedelta(days=35)
PRUNE_BATCH = 5000


def record(metric: str, outcomes: Iterable[tuple[str, str]]) -> None:
    """Record calls of ``metric`` as (dimension, outcome), now, and mark their hour; in the
    caller's transaction."""
    from .models import CallMade

    now = timezone.now()
    made = [CallMade(metric=metric, dimension=d[:128], outcome=o, at=now) for d, o in outcomes]
    if made:
        CallMade.objects.bulk_create(made)
        trends.mark(metric, [now])


def trend(metric: str) -> trends.Metric:
    """The trend of ``metric``'s calls: (dimension, outcome, n) of those made in each hour."""

    def calls() -> QuerySet:
        from .models import CallMade

        return CallMade.objects.filter(metric=metric)

    count, count_hours = trends.grouped(trends.Counted(calls, "at", "dimension", "outcome"))
    return trends.Metric(metric, count, count_hours=count_hours)


def prune(before: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the records older than ``before`` (by default ``KEEP`` ago), a batch per
    transaction, their counts kept by the trends; returns how many."""
    from .models import CallMade

    before = before or timezone.now() - KEEP
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                CallMade.objects.select_for_update()
                .filter(at__lt=before)
                .order_by("at", "pk")
                .values_list("pk", "metric", "at", "dimension", "outcome")[:batch]
            )
            if not rows:
                return done
            by_metric: dict[str, list[tuple[datetime, str, str]]] = {}
            for _pk, metric, at, dimension, outcome in rows:
                by_metric.setdefault(metric, []).append((at, dimension, outcome))
            for metric, pruned in by_metric.items():
                trends.prune(metric, pruned)
            CallMade.objects.filter(pk__in=[row[0] for row in rows]).delete()
            done += len(rows)
