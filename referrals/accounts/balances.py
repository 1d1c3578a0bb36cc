"""Balances: applied only when newer than what we hold, and every applied change kept.

Feishu's ``assets_update_v1`` carries the balance after a change and its
``modify_time`` (ms); events arrive out of order and more than once, so a snapshot is
applied only when its time is newer than ``assets_modify_time``.

``get_account_assets`` returns no time. A pull is stamped with the time taken just
before the call: everything Feishu changed before that moment is in the answer, so
events older than the stamp are superseded by it, and an event newer than the stamp
makes the pull stale and it is dropped. (Our clock stands in for Feishu's there; a
skew of a few seconds can at worst drop a pull, which the next pull repeats.)

A balance whose amounts are not numbers, or do not fit the columns that hold them, is refused
as it comes in (``BalanceRefused``): nothing of it is applied, the event fails with the
reason in the event log, and the account shows the reason as its balance error (the balance
it shows is the last one stored) until a balance that fits is applied.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from hireops.core import audit
from hireops.core.messages import Message, reworded
from hireops.core.task_names import task_named
from hireops.events.refusals import EventRefused
from hireops.feishu import FeishuBusinessError, FeishuError, get_client, hire
from hireops.feishu_calls.failures import judge
from hireops.outbound.retry import GAVE_UP, TryLater
from hireops.tenants.scoping import of_tenant

from . import announce, owed
from .models import AccountCash, AccountStatus, BalanceChange, BalanceSource, ReferralAccount

log = logging.getLogger(__name__)


# On the account (its balance error) and in the event log: a balance that could not be stored.
BALANCE_REFUSED = gettext_noop(
    "Feishu sent a balance that cannot be stored (%(what)s): the balance shown is the last one "
    "stored, until Feishu sends one that can be."
)
# Change-history messages (hireops.core.audit), on the account, translated when read.
BALANCE_PULL_REQUESTED = gettext_noop("Balance pull from Feishu requested.")
# Written before pulls were queued; older history entries still read it.
BALANCE_PULLED = gettext_noop("Balance pulled from Feishu.")


class BalanceRefused(ValueError):
    """A balance from Feishu refused as it came in; its argument is the Message for staff."""


def now_ms() -> int:
    return int(time.time() * 1000)


def balance_refusal(bonus: hire.Bonus) -> Message | None:
    """Why ``bonus`` cannot be stored (an amount beyond its column), or None."""
    points_column = ReferralAccount._meta.get_field("points").get_internal_type()
    low, high = connection.ops.integer_field_range(points_column)
    if not low <= bonus.point_bonus <= high:
        return Message(BALANCE_REFUSED, what=f"{bonus.point_bonus} points")
    amount_field = AccountCash._meta.get_field("amount")
    limit = Decimal(10) ** (amount_field.max_digits - amount_field.decimal_places)
    for cash in bonus.cash:
        if len(cash.currency_type) > AccountCash._meta.get_field("currency").max_length:  # type: ignore[operator]  # set
            return Message(BALANCE_REFUSED, what=f"currency {cash.currency_type[:40]}")
        if not abs(cash.amount.quantize(Decimal("0.01"))) < limit:
            return Message(BALANCE_REFUSED, what=f"{cash.amount} {cash.currency_type}")
    return None


def _balance_refused(account_pk: int, reason: Message) -> None:
    ReferralAccount.objects.filter(pk=account_pk).update(balance_error=reason, updated_at=timezone.now())


def cash_dict(bonus: hire.Bonus) -> dict[str, str]:
    return {c.currency_type: str(Decimal(c.amount).quantize(Decimal("0.01"))) for c in bonus.cash}


def balance_apply(
    account_pk: int,
    bonus: hire.Bonus | Callable[[ReferralAccount], hire.Bonus],
    *,
    modify_time: int | None,
    source: str,
    reference: str = "",
) -> bool:
    """Apply a balance snapshot if it is newer than the one held. Returns whether it was applied.

    ``bonus`` may be made from the account as held, read under its row lock (a withdrawal
    empties some types and keeps the others: kept as they are now, not as a caller read them
    before calling Feishu, which a change applied meanwhile would have made stale).

    The history keeps every change, and every Feishu event and withdrawal; a pull that finds
    the balance as it was only moves ``balance_synced_at`` (at 200,000 accounts, pulls that
    change nothing would otherwise add about a million rows a day). Raises ``BalanceRefused``
    for a newer balance that cannot be stored, before anything is written."""
    snapshot = Snapshot(account_pk, bonus, modify_time, reference)
    return account_pk in balances_apply([snapshot], source=source)


@dataclass(frozen=True)
class Snapshot:
    """A balance for ``balances_apply``: as ``balance_apply`` takes it."""

    account_pk: int
    bonus: hire.Bonus | Callable[[ReferralAccount], hire.Bonus]
    modify_time: int | None
    reference: str = ""


def balances_apply(snapshots: list[Snapshot], *, source: str) -> set[int]:
    """``balance_apply`` for several snapshots (a batch of paid payout lines) in one transaction
    and a few statements whatever their number, each as ``balance_apply`` would. Returns the
    accounts whose snapshot was applied. A refusal raises ``BalanceRefused`` before anything of
    any of them is written. One snapshot an account: a second would have to see the first's
    cash (refused)."""
    pks = {s.account_pk for s in snapshots}
    if len(pks) < len(snapshots):
        raise ValueError("one balance snapshot an account at a time")
    with transaction.atomic():
        locked = ReferralAccount.objects.select_for_update().filter(pk__in=pks)
        accounts = {a.pk: a for a in locked.order_by("pk").prefetch_related("cash")}
        held_cash = {pk: _held_cash(a) for pk, a in accounts.items()}
        applied: dict[int, ReferralAccount] = {}
        changed: dict[int, dict[str, str]] = {}  # account → its cash now, where the balance changed
        history = []
        now = timezone.now()
        for snapshot in snapshots:
            account = accounts.get(snapshot.account_pk)
            if account is None:
                raise ReferralAccount.DoesNotExist(f"referral account {snapshot.account_pk}")
            held = account.assets_modify_time
            if held is not None and (snapshot.modify_time is None or snapshot.modify_time <= held):
                continue  # superseded, whatever it holds
            bonus = snapshot.bonus(account) if callable(snapshot.bonus) else snapshot.bonus
            refusal = balance_refusal(bonus)
            if refusal is not None:
                raise BalanceRefused(refusal)
            cash = cash_dict(bonus)
            moved = (account.points, held_cash[account.pk]) != (bonus.point_bonus, cash) or held is None
            account.points = bonus.point_bonus
            account.assets_modify_time = snapshot.modify_time
            account.balance_synced_at = account.updated_at = now
            if getattr(account.balance_error, "msgid", None) == BALANCE_REFUSED:
                account.balance_error = ""  # a balance that fits came after the one refused
            applied[account.pk] = account
            if moved:
                changed[account.pk] = cash
            if moved or source in ALWAYS_RECORDED:
                history.append(
                    BalanceChange(
                        account=account,
                        source=source,
                        modify_time=snapshot.modify_time,
                        points=bonus.point_bonus,
                        cash=cash,
                        reference=snapshot.reference,
                    )
                )
        if not applied:
            return set()
        balance_fields = ["points", "assets_modify_time", "balance_synced_at", "updated_at", "balance_error"]
        ReferralAccount.objects.bulk_update(applied.values(), balance_fields)
        _cash_write(changed)
        announce.balances_changed(list(changed))
        BalanceChange.objects.bulk_create(history)
        owed.mark_recorded(history)  # their ``at``, set as they were inserted
        return set(applied)


def _cash_write(changed: dict[int, dict[str, str]]) -> None:
    """The accounts' cash rows as ``changed`` says: currencies gone deleted, the others set."""
    if not changed:
        return
    gone = Q()
    for pk, cash in changed.items():
        gone |= Q(account_id=pk) & ~Q(currency__in=list(cash))
    AccountCash.objects.filter(gone).delete()
    rows = [
        AccountCash(account_id=pk, currency=currency, amount=Decimal(amount))
        for pk, cash in changed.items()
        for currency, amount in cash.items()
    ]
    if rows:
        AccountCash.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["account", "currency"], update_fields=["amount"]
        )


ALWAYS_RECORDED = (BalanceSource.EVENT, BalanceSource.WITHDRAWAL)


def _held_cash(account: ReferralAccount) -> dict[str, str]:
    return {c.currency: str(c.amount.quantize(Decimal("0.01"))) for c in account.cash.all()}


# Shown in the event log (hireops.core.messages), which says itself whether and when the event
# is tried again.
NOT_REGISTERED_YET = reworded(
    gettext_noop("Referral account %(account_id)s is not registered here (yet)."),
    was="Referral account %(account_id)s is not registered here (yet); retried later.",
)


def assets_event_apply(event) -> bool:
    """``hire.referral_account.assets_update_v1``."""
    body = event.payload.get("event") or {}
    account_id, modify_time = body.get("account_id"), body.get("modify_time")
    if not account_id or not str(modify_time or "").isdigit():
        raise ValueError(
            Message(gettext_noop("The balance event has no account_id or no numeric modify_time."))
        )
    account = of_tenant(ReferralAccount.objects.filter(account_id=account_id), event.tenant_key).first()
    if account is None:
        # Possibly registered a moment ago and not saved yet: failing lets the inbox retry.
        raise LookupError(Message(NOT_REGISTERED_YET, account_id=account_id))
    try:
        try:
            bonus = hire.parse_assets(body.get("assets"))
        except hire.BadAmount as exc:
            held = account.assets_modify_time
            if held is not None and int(modify_time) <= held:  # type: ignore[arg-type]  # checked by the caller
                return False  # superseded, whatever it holds
            raise BalanceRefused(Message(BALANCE_REFUSED, what=str(exc))) from exc
        return balance_apply(
            account.pk,
            bonus,
            modify_time=int(modify_time),  # type: ignore[arg-type]
            source=BalanceSource.EVENT,
            reference=event.event_id,
        )
    except BalanceRefused as exc:
        # The event fails with the reason (the sweep retries it), and the account shows it.
        reason = exc.args[0]
        raise EventRefused(reason, record=lambda: _balance_refused(account.pk, reason)) from exc


def balance_pull(account_pk: int) -> bool:
    """Pull one account's balance and status from Feishu. A refusal about this account
    (e.g. 1002553) is recorded on it and returns False; other errors are raised."""
    account = ReferralAccount.objects.get(pk=account_pk)
    if not account.account_id:
        return False
    stamp = now_ms()
    try:
        tenant = account.tenant_key or None
        remote = hire.get_account_assets(get_client(), account.account_id, tenant_key=tenant)
    except FeishuBusinessError as exc:
        ReferralAccount.objects.filter(pk=account.pk).update(
            balance_error=judge(exc).reason, updated_at=timezone.now()
        )
        return False
    except hire.BadAmount as exc:
        _balance_refused(account.pk, Message(BALANCE_REFUSED, what=str(exc)))
        return False
    try:
        applied = balance_apply(account.pk, remote.assets, modify_time=stamp, source=BalanceSource.PULL)
    except BalanceRefused as exc:
        applied, refused = False, exc.args[0]
    else:
        refused = None
    status = AccountStatus.from_feishu(remote.status)
    if status != account.status:  # as read before the call: mostly unchanged, no statement then
        with transaction.atomic():
            moved = (
                ReferralAccount.objects.filter(pk=account.pk, pending_action="")
                .exclude(status=status)
                .update(status=status, updated_at=timezone.now())
            )
            if moved and status == AccountStatus.DEACTIVATED:
                announce.deactivated(account.pk)
    if refused is not None:
        _balance_refused(account.pk, refused)
    elif account.balance_error:
        ReferralAccount.objects.filter(pk=account.pk).exclude(balance_error="").update(
            balance_error="", updated_at=timezone.now()
        )
    return applied


def balance_pull_run(account_pk: int) -> bool:
    """``balance_pull`` for a task: what can succeed later is tried again (TryLater)."""
    try:
        return balance_pull(account_pk)
    except FeishuError as exc:
        failure = judge(exc)
        ReferralAccount.objects.filter(pk=account_pk).update(
            balance_error=failure.reason, updated_at=timezone.now()
        )
        if failure.retry:
            raise TryLater(failure.reason) from exc
        return False


def balance_pull_give_up(account_pk: int, reason: str) -> bool:
    ReferralAccount.objects.filter(pk=account_pk).update(
        balance_error=Message(GAVE_UP, reason=reason), updated_at=timezone.now()
    )
    return False


def balance_pull_request(account: ReferralAccount, user=None) -> None:
    """Queue a pull of one account (staff's "Pull balance" action)."""
    pull_balance = task_named("referrals.pull_balance")

    transaction.on_commit(lambda: pull_balance.delay(account.pk))
    audit.record(user, [account], BALANCE_PULL_REQUESTED)


def balances_pull_all() -> tuple[int, int]:
    """One pass over every registered account in this process, stalest first (``feishu_sync``,
    for cron users; the schedule spreads pulls over the workers instead: pulls.py).
    An error that every call would meet (configuration, authentication, the monthly quota)
    ends the pass instead of failing each account in turn; the next pass starts over."""
    ids = ReferralAccount.objects.filter(account_id__isnull=False).exclude(status=AccountStatus.FAILED)
    never = ids.filter(balance_synced_at__isnull=True).order_by("pk")
    oldest = ids.filter(balance_synced_at__isnull=False).order_by("balance_synced_at", "pk")
    stalest_first = [*never.values_list("pk", flat=True), *oldest.values_list("pk", flat=True)]
    return balances_pull_each(stalest_first)


def balances_pull_each(pks, after_each=None) -> tuple[int, int]:
    """Pull the accounts in order; returns (pulled, failed). A failure is recorded on its
    account; one that every call would meet (configuration, authentication, the monthly
    quota) stops the loop. ``after_each(pk)`` runs after each account, pulled or not."""
    pulled = failed = 0
    for pk in pks:
        try:
            balance_pull(pk)
            pulled += 1
        except FeishuError as exc:
            failed += 1
            failure = judge(exc)
            ReferralAccount.objects.filter(pk=pk).update(
                balance_error=failure.reason, updated_at=timezone.now()
            )
            if failure.app_wide:
                log.error("balance pull stopped after %d accounts: %s", pulled + failed, type(exc).__name__)
                break
        finally:
            if after_each is not None:
                after_each(pk)
    return pulled, failed
