"""What the referral programme owes: the cash (per currency) and the points held on the
referral accounts, as a level kept from the moments it changes.

Every balance applied is kept as a snapshot (``BalanceChange``: the account's points and cash
after the change, recorded ``at``). What the accounts hold is the sum of each account's latest
snapshot; written as the sum of each snapshot's **change** from the previous snapshot of its
account (the first one's change is its whole balance), it becomes a count per hour like any
other metric: ``referrals.owed`` keeps, per hour and unit (a currency, in hundredths;
``points``), the sum of the changes of the snapshots recorded in that hour. The level at the
end of a day is every hour's sum up to it, from the first snapshot ever (``Metric.since``: the
backfill starts there, however old).

"Previous" is by id, the order the balances were applied in: the writer holds the account's
row lock while it inserts, so each snapshot of an account takes a greater id than the ones
before it, whatever the clocks of the machines that wrote them said (``at``). A snapshot
inserted changes no other snapshot's change, so the writer (``balances.balances_apply``) marks
the hours of the snapshots it inserts alone, in its transaction. A snapshot deleted (an
account's deletion cascades to its history) changes its own hour and the change of the
account's next snapshot: a signal before each deletion marks both, so a deleted account's
history leaves the level on every day, as a GROUP BY over the rows that are left says. A
deactivated account's balance stays in the level: Feishu still holds it for the employee (the
leavers' "deactivate" policy records it, and an account enabled again can withdraw it).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Min, OuterRef, Subquery, signals

from hireops.core import trends

from .cash import cash_hundredths
from .models import BalanceChange

METRIC = "referrals.owed"
POINTS = "points"  # the unit of points; every other unit is a currency code


def _units(points: int, cash: dict | None) -> dict[str, int]:
    """A snapshot as {unit: amount}: points as they are, each currency in hundredths."""
    held = {POINTS: points or 0}
    held.update(cash_hundredths(cash))
    return held


def previous_of() -> Subquery:
    """The id of each snapshot's previous one of its account: one probe of the (account, id)
    index."""
    earlier = BalanceChange.objects.filter(account=OuterRef("account"), pk__lt=OuterRef("pk")).order_by("-id")
    return Subquery(earlier.values("pk")[:1])


def counted(start: datetime, end: datetime) -> Iterable[tuple[str, str, int]]:
    """(unit, "", the sum of the changes) of the snapshots recorded in [start, end): two
    queries, the hour's snapshots with their previous one's id, then those previous ones."""
    rows = list(
        BalanceChange.objects.filter(at__gte=start, at__lt=end)
        .order_by()
        .annotate(previous=previous_of())
        .values_list("points", "cash", "previous")
    )
    before = {
        pk: _units(points, cash)
        for pk, points, cash in BalanceChange.objects.filter(
            pk__in={previous for _p, _c, previous in rows if previous is not None}
        )
        .order_by()
        .values_list("pk", "points", "cash")
    }
    summed: dict[str, int] = defaultdict(int)
    for points, cash, previous in rows:
        now, then = _units(points, cash), before.get(previous, {})
        for unit in now.keys() | then.keys():
            summed[unit] += now.get(unit, 0) - then.get(unit, 0)
    for unit, n in summed.items():
        if n:
            yield unit, "", n


def mark_recorded(snapshots: Iterable[BalanceChange]) -> None:
    """The hours these snapshots were recorded in, in the transaction that inserts them."""
    trends.mark(METRIC, (s.at for s in snapshots))


def _first_snapshot() -> datetime | None:
    return BalanceChange.objects.aggregate(first=Min("at"))["first"]


trends.register(trends.Metric(METRIC, counted, since=_first_snapshot))


def _deleting(sender, instance: BalanceChange, **kwargs) -> None:
    """A snapshot about to be deleted: its hour, and the hour of the account's next snapshot,
    whose change is measured from the one before this from now on."""
    after = (
        BalanceChange.objects.filter(account_id=instance.account_id, pk__gt=instance.pk)
        .order_by("id")
        .values_list("at", flat=True)
        .first()
    )
    trends.mark(METRIC, [instance.at, after])


signals.pre_delete.connect(_deleting, sender=BalanceChange, dispatch_uid="owed-snapshot-deleted")
