"""Paying an approved run's lines, one withdrawal each, on the outbound engine (``PAY_LINE``,
fed by the dispatcher): Feishu's balance read first and a different one held for a person, the
line's order id reused by every retry, a paid line recorded as the withdrawal it is."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core.messages import Message, stored_as
from hireops.core.models import CallStatus
from hireops.feishu import FeishuError, get_client, hire
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.feishu_calls.failures import Failure
from hireops.tenants.gate import asked_once

from ..accounts.models import ReferralAccount
from ..accounts.services import cash_dict
from ..leavers import services as leavers
from ..withdrawals import services as withdrawals
from ..withdrawals import trend as withdrawal_trend
from ..withdrawals.models import Withdrawal
from . import announce, signals, trend
from .amounts import cash_text, normalised
from .approval import NOTHING_LEFT
from .models import PayoutLine, PayoutNews, PayoutRun, PayoutRunStatus

CASH = hire.BonusType.CASH

HELD = gettext_noop(
    "Held, not paid: Feishu holds %(feishu)s, the run approved %(approved)s. "
    "Release it to pay what Feishu holds now, or leave it unpaid."
)
PAID_OTHER_AMOUNT = gettext_noop("Paid %(paid)s, the run approved %(approved)s: the balance moved meanwhile.")


# --- paying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    feishu_cash: dict[str, str]
    employee_id: str


@dataclass(frozen=True)
class Paid:
    # Feishu's answer, or what made it unreadable (amounts that are not numbers): paid all the same.
    result: hire.WithdrawalResult | hire.BadAmount
    employee_id: str

    @property
    def log_id(self) -> str:
        return getattr(self.result, "log_id", "")


def _prepare(line: PayoutLine) -> str | None:
    if line.run.status != PayoutRunStatus.PAYING:
        return None  # not approved (or no longer): never paid
    return line.external_order_id


def _call(line: PayoutLine, order_id: str) -> Held | Paid:
    with asked_once():  # the balance read and the withdrawal: one look at the tenant's state
        return _read_and_withdraw(line, order_id)


def _read_and_withdraw(line: PayoutLine, order_id: str) -> Held | Paid:
    client, tenant = get_client(), line.tenant_key or None
    employee_id = line.employee_id
    if not line.withdraw_sent:
        # What Feishu holds now must be what was approved; user_id: the id payroll knows.
        remote = hire.get_account_assets(
            client,
            line.account.account_id,  # type: ignore[arg-type]  # a registered account has its id
            user_id_type="user_id",
            tenant_key=tenant,
        )
        employee_id = str((remote.referrer or {}).get("id") or "")
        held = cash_dict(remote.assets)
        if normalised(held) != normalised(line.cash):
            return Held(normalised(held), employee_id)
        # From here a retry goes straight to the withdrawal: Feishu may already hold it.
        PayoutLine.objects.filter(pk=line.pk).update(withdraw_sent=True, employee_id=employee_id)
    result: hire.WithdrawalResult | hire.BadAmount
    try:
        result = hire.withdraw(
            client,
            line.account.account_id,  # type: ignore[arg-type]  # a registered account has its id
            bonus_types=[CASH],
            external_order_id=order_id,
            tenant_key=tenant,
        )
    except hire.BadAmount as exc:  # Feishu answered success: the line is paid, whatever it says
        result = exc
    return Paid(result, employee_id)


def _answer(line: PayoutLine, order_id: str, outcome: Held | Paid) -> dict[str, Any]:
    if isinstance(outcome, Held):
        approved, feishu = cash_text(line.cash), cash_text(outcome.feishu_cash)
        return {
            "status": CallStatus.FAILED,
            "held": True,
            "feishu_cash": outcome.feishu_cash,
            "employee_id": outcome.employee_id,
            "error": Message(HELD, feishu=feishu, approved=approved),
        }
    fields: dict[str, Any] = {"employee_id": outcome.employee_id}
    if isinstance(outcome.result, hire.BadAmount):
        return {**fields, "error": Message(withdrawals.AMOUNTS_NOT_KEPT, what=str(outcome.result))}
    paid = normalised(cash_dict(outcome.result.details))
    fields.update(withdrawn_cash=paid, trans_time=outcome.result.trans_time_ms)
    if paid != normalised(line.cash):
        fields["error"] = Message(PAID_OTHER_AMOUNT, paid=cash_text(paid), approved=cash_text(line.cash))
    return fields


def _effect_many(paid: list[tuple[PayoutLine, str, Held | Paid]]) -> None:
    """The paid lines as the withdrawals they are, and their accounts' cash at zero as of
    Feishu's time: a few statements for a batch's lines, whatever their number. (Each line
    here succeeded: its outcome is ``Paid``, as ``_answer`` closes a held one failed.)"""
    # The lines as the close wrote them (the engine keeps the objects so), and the run as the
    # claim read it (its approver is who asked for the withdrawal): nothing is read again. The
    # accounts are not read here either: an employee id is set only where it differs, in the
    # UPDATE, and zero_withdrawn_many reads the balances it keeps under the accounts' row locks.
    named = {line.account_id: outcome.employee_id for line, _, outcome in paid if outcome.employee_id}
    if named:
        differs = Q()
        for pk, employee_id in named.items():
            differs |= Q(pk=pk) & ~Q(employee_id=employee_id)
        ReferralAccount.objects.filter(differs).update(
            employee_id=Case(*(When(pk=pk, then=Value(employee_id)) for pk, employee_id in named.items())),
            updated_at=timezone.now(),
        )
    lines = [line for line, _, _ in paid]
    Withdrawal.objects.bulk_create(
        [
            Withdrawal(
                account_id=line.account_id,
                external_order_id=line.external_order_id,
                bonus_types=[CASH],
                status=CallStatus.SUCCEEDED,
                requested_by_id=line.run.decided_by_id,
                expected_cash=line.cash,
                withdrawn_points=0 if line.withdrawn_cash is not None else None,
                withdrawn_cash=line.withdrawn_cash,
                trans_time=line.trans_time,
                attempts=line.attempts,
                error=line.error,
                log_id=line.log_id,
                finished_at=line.finished_at,
            )
            for line in lines
        ]
    )
    withdrawal_trend.mark_confirmed(line.finished_at for line in lines)
    trend.mark_paid(line.finished_at for line in lines)
    # A leaver waiting for this run: deactivated next.
    leavers.accounts_paid_out([line.account_id for line in lines])
    # The cash is zero in Feishu now (where its answer could be read); the points as they are.
    emptied = [
        (line.account_id, line.trans_time, line.external_order_id)
        for line in lines
        if line.withdrawn_cash is not None
    ]
    withdrawals.zero_withdrawn_many(emptied, [CASH])


def _refused(line: PayoutLine, order_id: str, exc: FeishuError, failure: Failure) -> None:
    withdrawals.note_deactivated(line.account_id, exc)


def _closed(line: PayoutLine) -> None:
    """The run is finished once no line is left to pay: asked after the commit, so that of two
    last lines closing at once, the later sees the other's close (the dispatcher's tick also
    finishes a run left over)."""
    run_pk = line.run_id

    def finish_if_done():
        if not PayoutLine.objects.filter(run_id=run_pk, status=CallStatus.QUEUED).exists():
            with transaction.atomic():
                finished = PayoutRun.objects.filter(pk=run_pk, status=PayoutRunStatus.PAYING).update(
                    status=PayoutRunStatus.FINISHED, finished_at=timezone.now(), updated_at=timezone.now()
                )
                if finished:
                    announce.payout_run("payout_run.paid", run_pk)
                    signals.news(run_pk, PayoutNews.PAID)

    transaction.on_commit(finish_if_done)


def _give_up(pk: int, reason: str) -> str:
    # Maybe paid, maybe not: kept open; the dispatcher sends it again with the same order id.
    PayoutLine.objects.filter(pk=pk).update(
        error=Message(withdrawals.OUTCOME_UNKNOWN, reason=reason), dispatched_until=None
    )
    return CallStatus.QUEUED


# Its body is the line's order id (Feishu's idempotency key); its answer what the call found.
PAY_LINE: FeishuKind[PayoutLine, str, Held | Paid] = outbound.register(
    outbound.Outbound(
        name="referrals.pay_line",
        model=PayoutLine,
        related=("run", "account"),
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        answer=_answer,
        effect_many=_effect_many,  # for a single line too
        refused=_refused,
        closed=_closed,
        give_up=_give_up,
        swept_by="referrals.payout_dispatch",  # the dispatcher sends them, paced per tenant
        # Ten lines a task (about 2 s of calls): the broker and the claim are paid once for
        # ten withdrawals, and a killed worker leaves at most ten lines to their leases.
        batch=10,
        watch=outbound.Watch(
            # A line waits for a person until its run is approved, then for the dispatcher's
            # pace (100 lines a minute per tenant: a large run pays for hours, and a dispatcher
            # that stopped is the run's "stalled" finding). So it is stuck once it was sent and
            # is still unanswered 30 minutes after the approval; a line given up on, kept
            # queued, is one.
            waiting=Q(run__status=PayoutRunStatus.PAYING, attempts__gt=0),
            waiting_since="run__decided_at",
            # Closed unpaid by a person's decision (the run rejected or cancelled) or with
            # nothing to pay (no cash left at the approval): nothing failed.
            failures=~Q(run__status__in=[PayoutRunStatus.REJECTED, PayoutRunStatus.CANCELLED])
            & ~stored_as("error", NOTHING_LEFT),
        ),
    )
)
