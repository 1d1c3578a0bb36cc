"""The rewards' trend: the external rewards Feishu accepted, per hour they were accepted in
(``finished_at``), their number and their amounts per currency (points apart). A reward
deleted in Feishu since is taken out of its hour. Kept by hireops.core.trends from the marks
the reward's services write: its import succeeding, its deletion in Feishu."""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncHour

from hireops.core import trends
from hireops.core.models import CallStatus

from ..accounts.cash import hundredths
from .models import ExternalReferralReward, RewardBonusType

METRIC = "referrals.rewards"
POINTS = "points"  # the unit of a points reward; every other unit is a currency code
ROWS = ""  # the dimension of the rows' number (the others are units)


def _accepted() -> QuerySet:
    return ExternalReferralReward.objects.filter(status=CallStatus.SUCCEEDED, deleted_at__isnull=True)


GROUP = ("bonus_type", "currency")
SUMS = {"n": Count("id"), "amount": Sum("amount"), "points": Sum("points")}


def _units(bonus_type, currency, n, amount, points) -> Iterable[tuple[str, str, int]]:
    """(unit, "", value) of a group of rewards of one bonus type and currency."""
    yield ROWS, "", n
    if bonus_type == RewardBonusType.CASH and amount is not None:
        yield currency, "", hundredths(amount)
    elif bonus_type == RewardBonusType.POINTS and points:
        yield POINTS, "", points


def counted(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    """(unit, "", amount) per unit and ("", "", number) of the rewards accepted in [start, end)."""
    rows = _accepted().filter(finished_at__gte=start, finished_at__lt=end).order_by()
    for found in rows.values_list(*GROUP).annotate(**SUMS).values_list(*GROUP, *SUMS):
        yield from _units(*found)


def counted_by_hour(hours: list[datetime]) -> Iterable[tuple[datetime, str, str, int]]:
    """``counted`` for a batch of hours: a span of hours close together in one query, grouped
    by the hour too (``trends.spans``)."""
    wanted = set(hours)
    for start, end in trends.spans(hours):
        rows = _accepted().filter(finished_at__gte=start, finished_at__lt=end).order_by()
        rows = rows.annotate(trend_hour=TruncHour("finished_at", tzinfo=UTC))
        columns = ("trend_hour", *GROUP)
        for hour, *found in rows.values_list(*columns).annotate(**SUMS).values_list(*columns, *SUMS):
            if hour in wanted:
                for unit, outcome, n in _units(*found):
                    yield hour, unit, outcome, n


def mark_accepted(rewards: Iterable[ExternalReferralReward]) -> None:
    """The hours these rewards were accepted in: their import succeeded, or their deletion in
    Feishu took them out (in the transaction that says so)."""
    trends.mark(METRIC, (r.finished_at for r in rewards if r.status == CallStatus.SUCCEEDED))


trends.register(trends.Metric(METRIC, counted, count_hours=counted_by_hour))
