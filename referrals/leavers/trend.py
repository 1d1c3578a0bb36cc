"""The leavers' trend: the leavers who arrived in each hour (``created_at``), by what became of
them since (``Outcome``, read from the leaver's state, policy, match and withdrawal).

An outcome changes long after its leaver arrived, so every write of a leaver marks the hour it
arrived in, in the writing transaction: ``save_marked`` for one leaver, ``update_marked`` for a
queryset's update, ``mark_arrived`` beside a creation. They are the only writers of leavers
(``tests/referrals/test_leaver_writers.py`` reads the code for any other)."""

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.models import CallStatus

from .models import Leaver, LeaverMatch, LeaverPolicy, LeaverState

METRIC = "referrals.leavers"


class Outcome(models.TextChoices):
    """What became of a leaver, as HR reads it (the chart's series, bottom to top)."""

    PAID_IN_RUN = "paid_in_run", _("Paid in a payout run, then deactivated")
    PAID_AT_ONCE = "paid_at_once", _("Paid at once, then deactivated")
    DEACTIVATED = "deactivated", _("Deactivated, balance recorded")
    NO_ACCOUNT = "no_account", _("No referral account")
    HANDLED = "handled", _("Marked as handled outside hireops")
    IN_PROGRESS = "in_progress", _("In progress")
    NEEDS_PERSON = "needs_person", _("Needs a person")


IN_PROGRESS = (LeaverState.AWAITING_RUN, LeaverState.PAYING, LeaverState.DEACTIVATING)


def _has_cash(cash_then) -> bool:
    try:
        return any(Decimal(str(amount)) > 0 for amount in (cash_then or {}).values())
    except (InvalidOperation, ValueError, AttributeError):
        return False


def outcome(
    state: str, policy: str, match: str, handled_by_hand: bool, cash_then, withdrawal_status: str | None
) -> Outcome:
    """A leaver's outcome. Done: marked as handled, or confirmed without an account, or
    deactivated without a payment (the policy said so, or there was no cash), or paid at once
    (its own withdrawal succeeded) or else by a payout run (under ``next_run``, or ``at_once``
    while a run held the cash)."""
    if state == LeaverState.NEEDS_PERSON:
        return Outcome.NEEDS_PERSON
    if state in IN_PROGRESS:
        return Outcome.IN_PROGRESS
    if handled_by_hand:
        return Outcome.HANDLED
    if match == LeaverMatch.NO_ACCOUNT:
        return Outcome.NO_ACCOUNT
    if policy == LeaverPolicy.DEACTIVATE or not _has_cash(cash_then):
        return Outcome.DEACTIVATED
    if policy == LeaverPolicy.AT_ONCE and withdrawal_status == CallStatus.SUCCEEDED:
        return Outcome.PAID_AT_ONCE
    return Outcome.PAID_IN_RUN


FIELDS = ("state", "policy", "match", "handled_by_hand", "cash_then", "withdrawal__status")


def _arrived(start: datetime, end: datetime) -> Iterator[tuple[datetime, str, str]]:
    """(arrival, "", outcome) of each leaver who arrived in [start, end)."""
    rows = Leaver.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    for created, *fields in rows.values_list("created_at", *FIELDS).iterator(chunk_size=2000):
        yield created, "", str(outcome(*fields))


# ("", outcome, number) of the leavers who arrived in [start, end), and of a batch of hours by
# hour, by one rule.
counted, counted_by_hour = trends.placed(_arrived)


def mark_arrived(moments: Iterable[datetime | None]) -> None:
    """The hours these leavers arrived in, in the transaction that changes them."""
    trends.mark(METRIC, moments)


def save_marked(leaver: Leaver) -> None:
    """``leaver.save()``, its arrival's hour marked with it."""
    with transaction.atomic(savepoint=False):
        leaver.save()
        mark_arrived([leaver.created_at])


def update_marked(rows: "models.QuerySet[Leaver]", **changes) -> int:
    """``rows.update(**changes)``, marking the hours the changed leavers arrived in: the rows are
    locked and read first, then exactly those are changed, so a leaver that comes to match the
    filter meanwhile is neither changed nor left unmarked."""
    with transaction.atomic(savepoint=False):
        locked = rows.select_for_update(of=("self",)).order_by("pk").values_list("pk", "created_at")
        found = list(locked)
        if not found:
            return 0
        mark_arrived(created for _pk, created in found)
        return Leaver.objects.filter(pk__in=[pk for pk, _created in found]).update(**changes)


trends.register(trends.Metric(METRIC, counted, monthly=True, count_hours=counted_by_hour))
