"""Full-balance withdrawals (docs/feishu.md §4).

The row and its ``external_order_id`` are committed before the call and every retry
reuses the id, so a crash or timeout between call and answer can never withdraw twice.
Only a definite answer from Feishu closes a withdrawal; an unknown outcome stays open
(and blocks a second one) until a retry gets the answer.
"""

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import FeishuError, get_client, hire
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.feishu_calls.failures import Failure
from hireops.signin import second_factor

from ..accounts.models import AccountStatus, BalanceSource, ReferralAccount
from ..accounts.services import Snapshot, announce, balance_refusal, balances_apply, cash_dict
from . import guards, trend
from .models import Withdrawal

# The sub-package's other service, named here too ("as": what this module gives its callers).
from .reconciliation import RECONCILE as RECONCILE
from .reconciliation import reconciliation_request as reconciliation_request
from .reconciliation import reconciliation_yesterday as reconciliation_yesterday
from .signals import cash_paid_out, withdrawal_failed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

POINTS, CASH = hire.BonusType.POINTS, hire.BonusType.CASH
WITHDRAW_PERMISSION = "referrals.withdraw_referralaccount"


# On a withdrawal Feishu confirmed whose amounts hireops cannot keep (not numbers, or beyond
# their column): the withdrawal happened; what Feishu's page says is the truth.
AMOUNTS_NOT_KEPT = gettext_noop(
    "Feishu confirmed the withdrawal, but its amounts cannot be stored (%(what)s): see them in Feishu."
)

# A call whose answer never came (retries spent): kept open, sent again with the same order id.
OUTCOME_UNKNOWN = gettext_noop("Outcome unknown, will retry with the same order id: %(reason)s")

# Change-history messages (hireops.core.audit), translated when read.
WITHDRAWAL_REQUESTED = gettext_noop("Withdrawal requested (order id %(order)s).")  # on the account
WITHDRAWAL_RETRIED = gettext_noop("Retried now with the same order id.")  # on the withdrawal


class WithdrawalRefused(Exception):
    """Why a withdrawal is not asked (its text, for the person who asked)."""


class CashPromised(WithdrawalRefused):
    """Refused because a guard holds the account's cash (a payout run's unpaid line): it will
    be paid out there, so a caller that wanted it paid (a leaver's policy) may wait for that."""


def _may_withdraw(user: "User | None") -> None:
    """Whoever asks moves money: the permission and a second factor (None: the system)."""
    refusal = None if user is None else second_factor.money_refusal(user, WITHDRAW_PERMISSION)
    if refusal:
        raise WithdrawalRefused(refusal)


def _lock(account: ReferralAccount) -> None:
    list(ReferralAccount.objects.select_for_update().filter(pk=account.pk).values_list("pk"))


def withdrawal_request(
    account: ReferralAccount,
    bonus_types: Iterable[int | str],
    user: "User | None" = None,
    *,
    leaver_policy: bool = False,
) -> Withdrawal:
    """A full-balance withdrawal asked by ``user``. A leaver's payout is the leaver policy's
    decision (REFERRAL_LEAVER_POLICY=at_once), which ``user`` applied to a matched leaver:
    recorded as theirs, not asked of them."""
    if not leaver_policy:
        _may_withdraw(user)
    types = sorted({int(t) for t in bonus_types})
    if not types or any(t not in (POINTS, CASH) for t in types):
        raise WithdrawalRefused(_("Choose points, cash or both."))
    if not account.can_withdraw:
        raise WithdrawalRefused(
            _("%(account)s is %(status)s: only active accounts can withdraw.")
            % {"account": account, "status": account.get_status_display()}
        )
    try:
        with transaction.atomic():
            # The account's row is locked before the guards are asked, as a payout run's
            # preparation locks it before it writes a line: whichever comes second waits for
            # the first to commit, then sees its line or its withdrawal (the guards read in
            # statements of their own, after the lock). Asked before the lock, a run prepared
            # in between would promise the cash this withdrawal takes.
            _lock(account)
            # Every path that starts a withdrawal comes here (the admin's action and its bulk
            # job, a leaver's payout): the guards the app registered are asked first, a payout
            # run's among them, whose unpaid line one withdrawal would hold.
            promised = guards.cash_refusal(account)
            if promised:
                raise CashPromised(promised)
            cash = {c.currency: str(c.amount) for c in account.cash.all()} if CASH in types else {}
            w = Withdrawal.objects.create(
                account=account,
                external_order_id=uuid.uuid4().hex,
                bonus_types=types,
                requested_by=user,
                expected_points=account.points if POINTS in types else 0,
                expected_cash=cash,
            )
            WITHDRAW.send_on_commit(w.pk)
            audit.record(user, [account], WITHDRAWAL_REQUESTED, {"order": w.external_order_id})
    except IntegrityError as exc:
        raise WithdrawalRefused(
            _("%(account)s already has a withdrawal in progress.") % {"account": account}
        ) from exc
    return w


def withdrawal_retry(w: Withdrawal, user: "User | None" = None) -> None:
    """Queue the call again now, with the same order id (staff's "Retry now")."""
    _may_withdraw(user)
    if w.status != CallStatus.QUEUED:
        raise WithdrawalRefused(
            _("%(order)s is finished: only a withdrawal in progress is retried.") % {"order": w}
        )
    WITHDRAW.send_on_commit(w.pk)
    audit.record(user, [w], WITHDRAWAL_RETRIED)


def _prepare(w: Withdrawal) -> str:
    """Nothing to wait for: the body is the row's, its order id committed with it."""
    return w.external_order_id


# Feishu's answer, or what made it unreadable (amounts that are not numbers): withdrawn all the same.
Withdrawn = hire.WithdrawalResult | hire.BadAmount


def _call(w: Withdrawal, external_order_id: str) -> Withdrawn:
    try:
        return hire.withdraw(
            get_client(),
            w.account.account_id,  # type: ignore[arg-type]  # a registered account has its id
            bonus_types=w.bonus_types,
            external_order_id=external_order_id,
            tenant_key=w.account.tenant_key or None,
        )
    except hire.BadAmount as exc:  # Feishu answered success: the withdrawal is done, whatever it says
        return exc


def _answer(w: Withdrawal, body: str, result: Withdrawn) -> dict[str, Any]:
    if isinstance(result, hire.BadAmount):
        return {"error": Message(AMOUNTS_NOT_KEPT, what=str(result))}
    details = result.details
    refusal = balance_refusal(details)  # the columns that hold a balance hold what was withdrawn
    return {
        "trans_time": result.trans_time_ms,
        "error": Message(AMOUNTS_NOT_KEPT, what=refusal.params["what"]) if refusal else "",
        "withdrawn_points": None if refusal else details.point_bonus,
        "withdrawn_cash": None if refusal else cash_dict(details),
    }


def _effect(w: Withdrawal, body: str, result: Withdrawn) -> None:
    trend.mark_confirmed([w.finished_at])  # closed as succeeded in this transaction
    if not isinstance(result, hire.BadAmount):
        zero_withdrawn(w.account_id, w.bonus_types, result.trans_time_ms, w.external_order_id)
    if CASH in w.bonus_types:  # the cash is out: a leaver waiting for it moves on
        cash_paid_out.send(Withdrawal, account_pk=w.account_id)


def _refused(w: Withdrawal, body: str, exc: FeishuError, failure: Failure) -> None:
    note_deactivated(w.account_id, exc)
    withdrawal_failed.send(Withdrawal, withdrawal_pk=w.pk)


def zero_withdrawn(account_pk: int, bonus_types: list[int], modify_time: int | None, reference: str) -> None:
    """The withdrawn types are now empty in Feishu; record that as of the transaction time
    (a withdrawal, a payout run's line). The types not withdrawn keep what the account holds
    under its row lock, not what a caller read before Feishu was called."""
    zero_withdrawn_many([(account_pk, modify_time, reference)], bonus_types)


def zero_withdrawn_many(withdrawn: list[tuple[int, int | None, str]], bonus_types: list[int]) -> None:
    """``zero_withdrawn`` for several accounts at once (account, Feishu's time, the reference):
    a batch of paid payout lines, in a few statements."""

    def emptied(held: ReferralAccount) -> hire.Bonus:
        points = 0 if POINTS in bonus_types else held.points
        cash = [] if CASH in bonus_types else [hire.Cash(c.currency, c.amount) for c in held.cash.all()]
        return hire.Bonus(point_bonus=points, cash=cash)

    balances_apply(
        [Snapshot(pk, emptied, modify_time, reference) for pk, modify_time, reference in withdrawn],
        source=BalanceSource.WITHDRAWAL,
    )


def note_deactivated(account_pk: int, exc: FeishuError) -> None:
    """Feishu refused a withdrawal because the account is deactivated: show it on the account."""
    if exc.code == 1002555:
        moved = (
            ReferralAccount.objects.filter(pk=account_pk)
            .exclude(status=AccountStatus.DEACTIVATED)
            .update(status=AccountStatus.DEACTIVATED, updated_at=timezone.now())
        )
        if moved:
            announce.deactivated(account_pk)


def _give_up(pk: int, reason: str) -> str:
    # The outcome is unknown: keep it open; the sync pass retries it with the same id.
    Withdrawal.objects.filter(pk=pk).update(error=Message(OUTCOME_UNKNOWN, reason=reason))
    return CallStatus.QUEUED


# An unknown outcome is asked about with the same order id (Feishu's idempotency key), never
# closed blindly: the sync pass (referrals.sync) sends what is still queued, so no sweep here.
# Its body is the withdrawal's order id (Feishu's idempotency key).
WITHDRAW: FeishuKind[Withdrawal, str, Withdrawn] = outbound.register(
    outbound.Outbound(
        name="referrals.withdraw",
        model=Withdrawal,
        related=("account",),
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        answer=_answer,
        effect=_effect,
        refused=_refused,
        give_up=_give_up,
        swept_by="referrals.sync_pending",
    )
)
