"""Payout runs: many full-cash withdrawals, prepared by one person, approved by another.

The life of a run (``PayoutRun``):

1. **prepared** (``payout_prepare``, ``referrals.payouts.preparation``): one line per account
   with cash, each with its own ``external_order_id`` and the cash the account held then; a
   large run is prepared by a worker, *being prepared* meanwhile. Nothing moves; the
   approvers are told (``referrals.payouts.notices``).
2. **approved** or **rejected** by someone else holding ``referrals.approve_payoutrun``, with
   the second factor proved minutes ago (the admin's decision page). The decision page brings
   the lines to what the accounts hold at that moment (``payout_refresh``), and an approval of
   lines that changed since the page was shown is refused: a line records exactly what was
   there when the run was approved. A rejected run pays nothing: its lines are closed.
3. **paid**, line by line, by the outbound engine (``PAY_LINE``), fed by the dispatcher
   (``payout_dispatch``, every minute) with what one minute of each tenant's withdrawal quota
   allows. Before the first withdrawal of a line, Feishu's balance is read: a balance that is
   not the line's amount **holds** the line for a person (``payout_release``) instead of
   paying it blindly. The withdrawal carries the line's order id, Feishu's idempotency key,
   so a line retried after a lost answer or a killed worker is never paid twice.
4. **finished** when no line is left to pay.

A paid line also becomes a succeeded ``Withdrawal`` with the same order id, so the account's
page, the withdrawals list and the daily reconciliation (``referrals.withdrawals.reconciliation``) all
see it.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core import outbound
from hireops.core.messages import Message, stored_as
from hireops.core.models import CallStatus
from hireops.core.task_names import task_named
from hireops.feishu import FeishuError, get_client, hire
from hireops.signin import second_factor

from ..accounts.models import ReferralAccount
from ..accounts.services import cash_dict
from ..leavers import services as leavers
from ..withdrawals import services as withdrawals
from ..withdrawals.models import Withdrawal
from . import announce
from .amounts import BATCH, PayoutRefused, add_totals, cash_text, normalised, totals_json
from .dispatch import seconds_per_line
from .models import PayoutLine, PayoutRun, PayoutRunStatus
from .preparation import (  # noqa: F401  (the preparing half of a run's life, named here too)
    _cash_of,
    payable_accounts,
    payout_prepare,
    payout_prepare_scheduled,
    preview,
    select_accounts,
    with_leavers,
)

CASH = hire.BonusType.CASH
APPROVE = "referrals.approve_payoutrun"
RECENT = timedelta(minutes=1)  # the pace a run's time left is estimated from

HELD = gettext_noop(
    "Held, not paid: Feishu holds %(feishu)s, the run approved %(approved)s. "
    "Release it to pay what Feishu holds now, or leave it unpaid."
)
PAID_OTHER_AMOUNT = gettext_noop("Paid %(paid)s, the run approved %(approved)s: the balance moved meanwhile.")
RUN_REJECTED = gettext_noop("Not paid: the run was rejected.")
NOTHING_LEFT = gettext_noop("Not paid: the account held no cash any more when the run was approved.")
RUN_CANCELLED = gettext_noop("Not paid: the run was cancelled.")


class LinesChanged(PayoutRefused):
    """The lines are not what the approver was shown: shown again, approved again."""


# --- deciding --------------------------------------------------------------------------------


def _locked_run(run_pk: int) -> PayoutRun:
    return PayoutRun.objects.select_for_update().get(pk=run_pk)


def causers(run: PayoutRun) -> set[int]:
    """Whoever caused the run to exist, the four-eyes rule's "preparer": who prepared it, and
    for a run its schedule prepared, who asked the schedule to run now and who last changed
    it before it ran. A run of an untouched schedule has none: any approver decides it."""
    hands = (run.prepared_by_id, run.run_now_by_id, run.schedule_changed_by_id)
    return {pk for pk in hands if pk is not None}


@dataclass(frozen=True)
class Cause:
    how: str  # translated: "prepared it", "asked the schedule to run now", …
    user: Any  # a user, or None: the schedule alone
    at: object = None


def causes(run: PayoutRun) -> list[Cause]:
    """Who caused the run, as its page and the approvers' notice say it (``causers``' people)."""
    if not run.scheduled:
        return [Cause(_("prepared it"), run.prepared_by, run.prepared_at)]
    found = [Cause(_("prepared by the schedule"), None, run.prepared_at)]
    if run.run_now_by_id:
        found.append(Cause(_("asked the schedule to run now"), run.run_now_by, run.prepared_at))
    if run.schedule_changed_by_id:
        found.append(Cause(_("last changed the schedule"), run.schedule_changed_by, run.schedule_changed_at))
    return found


def caused_by_text(run: PayoutRun) -> str:
    """One line: "prepared by the schedule; bob asked the schedule to run now", or "the
    schedule alone, untouched: any approver decides it"."""
    found = causes(run)
    if run.scheduled and len(found) == 1:
        return _("prepared by the schedule alone, untouched: any approver may decide it")
    parts = []
    for cause in found:
        if cause.user is None and run.scheduled:
            parts.append(str(cause.how))
        else:
            who = cause.user.get_username() if cause.user else _("a deleted user")
            parts.append(_("%(who)s %(how)s") % {"who": who, "how": cause.how})
    return "; ".join(parts)


def may_decide(run: PayoutRun, user) -> bool:
    """Whether ``user`` may approve or reject the run (or release its held lines): the approve
    permission with a second factor set up, and none of its causes."""
    return second_factor.may_move_money(user, APPROVE) and user.pk not in causers(run)


def check_approver(run: PayoutRun, user) -> None:
    """The separation of duties: the approve permission (which does nothing until the user has
    a second factor), and never someone who caused the run."""
    if not user.has_perm(APPROVE):
        raise PermissionDenied
    if not second_factor.may_move_money(user, APPROVE):
        raise PayoutRefused(second_factor.money_refusal(user, APPROVE))
    if user.pk in causers(run):
        raise PayoutRefused(_("You caused this run: a colleague with the approve permission decides it."))


def _still_waiting(run: PayoutRun) -> None:
    if run.status != PayoutRunStatus.AWAITING_APPROVAL:
        raise PayoutRefused(
            _("This run is %(status)s: only a run waiting for approval is decided.")
            % {"status": run.get_status_display()}
        )


def payout_refresh(run: PayoutRun) -> str:
    """The open lines of a run waiting for approval as their accounts hold them now (hireops'
    copy of Feishu's balances): amounts brought up to date, a line whose account holds no cash
    any more closed, the run's totals again. Returns the fingerprint of what the lines say, which
    an approval must match: what is approved is exactly what the approver was shown."""
    lines = list(
        run.lines.filter(status=CallStatus.QUEUED).order_by("pk").values_list("pk", "account_id", "cash")
    )
    held: dict[int, dict[str, str]] = {}
    for i in range(0, len(lines), BATCH):
        held.update(_cash_of([account for _pk, account, _cash in lines[i : i + BATCH]]))
    changed: list = []
    emptied: list = []
    totals: dict = {}
    seen = hashlib.sha256()
    for pk, account, cash in lines:
        now = normalised(held.get(account))
        if not now:
            emptied.append(pk)
            continue
        if now != normalised(cash):
            changed.append(PayoutLine(pk=pk, cash=now))
        add_totals(totals, now)
        seen.update(f"{pk}:{sorted(now.items())};".encode())
    PayoutLine.objects.bulk_update(changed, ["cash"], batch_size=BATCH)
    PayoutLine.objects.filter(pk__in=emptied).update(
        status=CallStatus.FAILED, error=Message(NOTHING_LEFT), finished_at=timezone.now()
    )
    run.totals = totals_json(totals)
    PayoutRun.objects.filter(pk=run.pk).update(totals=run.totals, updated_at=timezone.now())
    return seen.hexdigest()[:16]


def payout_approve(run_pk: int, user, seen: str | None = None) -> PayoutRun:
    """Approve the lines as the accounts hold them now; ``seen``: the fingerprint of the lines
    the approver was shown (``payout_refresh``), refused if they changed since. The dispatcher
    starts paying at once."""
    payout_dispatch = task_named("referrals.payout_dispatch")

    with transaction.atomic():
        run = _locked_run(run_pk)
        check_approver(run, user)
        _still_waiting(run)
        if payout_refresh(run) != seen and seen is not None:
            raise LinesChanged(
                _("Balances changed since this page was opened: check the lines again, then approve.")
            )
        run.status, run.decided_by, run.decided_at = PayoutRunStatus.PAYING, user, timezone.now()
        run.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        announce.payout_run("payout_run.approved", run.pk)
        transaction.on_commit(payout_dispatch.delay)
    return run


def _close_lines(run: PayoutRun, message: str) -> None:
    PayoutLine.objects.filter(run=run, status=CallStatus.QUEUED).update(
        status=CallStatus.FAILED, error=Message(message), finished_at=timezone.now()
    )


def payout_reject(run_pk: int, user, reason: str) -> PayoutRun:
    reason = (reason or "").strip()
    if not reason:
        raise PayoutRefused(_("Say why the run is rejected."))
    with transaction.atomic():
        run = _locked_run(run_pk)
        check_approver(run, user)
        _still_waiting(run)
        run.status, run.decided_by, run.decided_at = PayoutRunStatus.REJECTED, user, timezone.now()
        run.reason, run.finished_at = reason[:500], run.decided_at
        run.save(update_fields=["status", "decided_by", "decided_at", "reason", "finished_at", "updated_at"])
        _close_lines(run, RUN_REJECTED)
    return run


def payout_cancel(run_pk: int, user) -> PayoutRun:
    """Its preparer (or anyone who may prepare runs) takes back a run not yet decided (one
    being prepared too: its worker stops at its next batch)."""
    with transaction.atomic():
        run = _locked_run(run_pk)
        if run.status != PayoutRunStatus.PREPARING:
            _still_waiting(run)
        run.status, run.finished_at = PayoutRunStatus.CANCELLED, timezone.now()
        run.save(update_fields=["status", "finished_at", "updated_at"])
        _close_lines(run, RUN_CANCELLED)
    return run


def payout_release(line_pks, user) -> int:
    """Held lines paid after all, at the balance Feishu held when they were held (an approver's
    decision, like the run's). A balance that moved again is held again."""
    payout_dispatch = task_named("referrals.payout_dispatch")

    released = 0
    with transaction.atomic():
        lines = (
            PayoutLine.objects.select_for_update()
            .select_related("run")
            .filter(pk__in=line_pks, held=True, status=CallStatus.FAILED)
        )
        for line in lines:
            check_approver(line.run, user)
            line.cash = normalised(line.feishu_cash)
            line.held, line.status, line.error, line.finished_at = False, CallStatus.QUEUED, "", None
            line.dispatched_until = None
            line.save(update_fields=["cash", "held", "status", "error", "finished_at", "dispatched_until"])
            PayoutRun.objects.filter(pk=line.run_id, status=PayoutRunStatus.FINISHED).update(
                status=PayoutRunStatus.PAYING, finished_at=None, updated_at=timezone.now()
            )
            released += 1
        if released:
            transaction.on_commit(payout_dispatch.delay)
    return released


# --- paying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    feishu_cash: dict
    employee_id: str


@dataclass(frozen=True)
class Paid:
    result: object  # hire.WithdrawalResult, or hire.BadAmount when Feishu's amounts cannot be read
    employee_id: str

    @property
    def log_id(self) -> str:
        return getattr(self.result, "log_id", "")


def _prepare(line: PayoutLine):
    if line.run.status != PayoutRunStatus.PAYING:
        return None  # not approved (or no longer): never paid
    return line.external_order_id


def _call(line: PayoutLine, order_id: str):
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
    result: object  # Paid's
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


def _answer(line: PayoutLine, order_id, outcome) -> dict:
    if isinstance(outcome, Held):
        approved, feishu = cash_text(line.cash), cash_text(outcome.feishu_cash)
        return {
            "status": CallStatus.FAILED,
            "held": True,
            "feishu_cash": outcome.feishu_cash,
            "employee_id": outcome.employee_id,
            "error": Message(HELD, feishu=feishu, approved=approved),
        }
    fields = {"employee_id": outcome.employee_id}
    if isinstance(outcome.result, hire.BadAmount):
        return {**fields, "error": Message(withdrawals.AMOUNTS_NOT_KEPT, what=str(outcome.result))}
    paid = normalised(cash_dict(outcome.result.details))
    fields.update(withdrawn_cash=paid, trans_time=outcome.result.trans_time_ms)
    if paid != normalised(line.cash):
        fields["error"] = Message(PAID_OTHER_AMOUNT, paid=cash_text(paid), approved=cash_text(line.cash))
    return fields


def _effect(line: PayoutLine, order_id, outcome) -> None:
    """The paid line as the withdrawal it is, and the account's cash at zero as of Feishu's time."""
    line.refresh_from_db()
    account = line.account
    if outcome.employee_id and account.employee_id != outcome.employee_id:
        ReferralAccount.objects.filter(pk=account.pk).update(
            employee_id=outcome.employee_id, updated_at=timezone.now()
        )
    Withdrawal.objects.create(
        account=account,
        external_order_id=line.external_order_id,
        bonus_types=[CASH],
        status=CallStatus.SUCCEEDED,
        requested_by=line.run.decided_by,
        expected_cash=line.cash,
        withdrawn_points=0 if line.withdrawn_cash is not None else None,
        withdrawn_cash=line.withdrawn_cash,
        trans_time=line.trans_time,
        attempts=line.attempts,
        error=line.error,
        log_id=line.log_id,
        finished_at=line.finished_at,
    )
    leavers.account_paid_out(account.pk)  # a leaver waiting for this run: deactivated next
    if line.withdrawn_cash is not None:  # the cash is zero in Feishu now; the points as they were
        withdrawals.zero_withdrawn(account, [CASH], line.trans_time, line.external_order_id)


def _refused(line: PayoutLine, order_id, exc: FeishuError, failure) -> None:
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

    transaction.on_commit(finish_if_done)


def _give_up(pk: int, reason: str) -> str:
    # Maybe paid, maybe not: kept open; the dispatcher sends it again with the same order id.
    PayoutLine.objects.filter(pk=pk).update(
        error=Message(withdrawals.OUTCOME_UNKNOWN, reason=reason), dispatched_until=None
    )
    return CallStatus.QUEUED


PAY_LINE = outbound.register(
    outbound.Outbound(
        name="referrals.pay_line",
        model=PayoutLine,
        related=("run", "account"),
        prepare=_prepare,
        call=_call,
        answer=_answer,
        effect=_effect,
        refused=_refused,
        closed=_closed,
        give_up=_give_up,
        sweep=False,  # the dispatcher sends them, paced per tenant
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
