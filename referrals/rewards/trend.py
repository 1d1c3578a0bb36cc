"""The rewards' trend: the external rewards Feishu accepted, per hour they were accepted in
(``finished_at``), their number and their amounts per currency (points apart). A reward
deleted in Feishu since is taken out of its hour. Kept by hireops.core.trends from the marks
the reward's services write: its import succeeding, its deletion in Feishu."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Sum

from hireops.core import trends
from hireops.core.models import CallStatus

from .models import ExternalReferralReward, RewardBonusType

METRIC = "referrals.rewards"
POINTS = "points"  # the unit of a points reward; every other unit is a currency code
ROWS = ""  # the dimension of the rows' number (the others are units)


def hundredths(amount) -> int:
    """An amount of money (two decimal places, as every amount column holds) as a whole number
    of hundredths: the rollups keep integers, summed exactly."""
    return int(amount.scaleb(2).to_integral_value())


def counted(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    """(unit, "", amount) per unit and ("", "", number) of the rewards accepted in [start, end)."""
    rows = ExternalReferralReward.objects.filter(
        status=CallStatus.SUCCEEDED, deleted_at__isnull=True, finished_at__gte=start, finished_at__lt=end
    ).order_by()
    summed = rows.values_list("bonus_type", "currency").annotate(
        n=Count("id"), amount=Sum("amount"), points=Sum("points")
    )
    for bonus_type, currency, n, amount, points in summed.values_list(
        "bonus_type", "currency", "n", "amount", "points"
    ):
        yield ROWS, "", n
        if bonus_type == RewardBonusType.CASH and amount is not None:
            yield currency, "", hundredths(amount)
        elif bonus_type == RewardBonusType.POINTS and points:
            yield POINTS, "", points


def mark_accepted(rewards: Iterable[ExternalReferralReward]) -> None:
    """The hours these rewards were accepted in: their import succeeded, or their deletion in
    Feishu took them out (in the transaction that says so)."""
    trends.mark(METRIC, (r.finished_at for r in rewards if r.status == CallStatus.SUCCEEDED))


trends.register(trends.Metric(METRIC, counted))
