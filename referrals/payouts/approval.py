"""Deciding a payout run: who may (never someone who caused it), the lines brought to what the
accounts hold when it is decided, approving, rejecting, cancelling, and releasing held lines."""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.core.task_names import task_named
from hireops.signin import second_factor
from hireops.signin.identities import person

from . import announce, signals
from .amounts import BATCH, PayoutRefused, add_totals, normalised, totals_json
from .models import PayoutLine, PayoutNews, PayoutRun, PayoutRunStatus
from .preparation import _cash_of

APPROVE = "referrals.approve_payoutrun"

RUN_REJECTED = gettext_noop("Not paid: the run was rejected.")
NOTHING_LEFT = gettext_noop("Not paid: the account held no cash any more when the run was approved.")
RUN_CANCELLED = gettext_noop("Not paid: the run was cancelled.")
# Change-history messages (hireops.core.audit), on the run (a held line), translated when read.
APPROVED = gettext_noop("Approved the payout run")
REJECTED = gettext_noop("Rejected the payout run: %(reason)s")
CANCELLED = gettext_noop("Cancelled the payout run")
RELEASED = gettext_noop("Released the held line: paid at Feishu's balance")


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


def own_lines(run: PayoutRun, user):
    """The run's lines that pay ``user``'s own referral accounts: an account whose employee id
    is one their Feishu identity gave at sign-in, or, holding none or that one, whose email is
    one of theirs (as the directory finds an employee's accounts, referrals.accounts.directory)."""
    who = person(user)
    query = Q(account__employee_id__in=who.employee_ids) if who.employee_ids else Q(pk__in=[])
    if who.emails:
        by_email = Q(account_email__in=who.emails)
        if who.employee_ids:  # an account known to be someone else's is not theirs
            by_email &= Q(account__employee_id__in=["", *who.employee_ids])
        query |= by_email
    return PayoutLine.objects.filter(run=run).annotate(account_email=Lower("account__email")).filter(query)


def may_decide(run: PayoutRun, user) -> bool:
    """Whether ``user`` may approve or reject the run (or release its held lines): the approve
    permission with a second factor set up, none of its causes, and none of its lines theirs."""
    return (
        second_factor.may_move_money(user, APPROVE)
        and user.pk not in causers(run)
        and not own_lines(run, user).exists()
    )


def check_approver(run: PayoutRun, user) -> None:
    """The separation of duties: the approve permission (which does nothing until the user has
    a second factor), and never someone who caused the run."""
    if not user.has_perm(APPROVE):
        raise PermissionDenied
    if not second_factor.may_move_money(user, APPROVE):
        raise PayoutRefused(second_factor.money_refusal(user, APPROVE))
    if user.pk in causers(run):
        raise PayoutRefused(_("You caused this run: a colleague with the approve permission decides it."))
    if own_lines(run, user).exists():
        # Money needs two independent people: nobody approves a payment to themselves.
        raise PayoutRefused(
            _("This run pays your own referral account: a colleague with the approve permission decides it.")
        )


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
        signals.news(run.pk, PayoutNews.APPROVED)
        transaction.on_commit(payout_dispatch.delay)
        audit.record(user, [run], APPROVED)
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
        signals.news(run.pk, PayoutNews.REJECTED)
        audit.record(user, [run], REJECTED, {"reason": reason})
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
        signals.news(run.pk, PayoutNews.CANCELLED)  # the approvers told it waits hear it no longer does
        audit.record(user, [run], CANCELLED)
    return run


def payout_release(line_pks, user) -> int:
    """Held lines paid after all, at the balance Feishu held when they were held (an approver's
    decision, like the run's). A balance that moved again is held again."""
    payout_dispatch = task_named("referrals.payout_dispatch")

    released = []
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
            released.append(line)
        if released:
            transaction.on_commit(payout_dispatch.delay)
            audit.record(user, released, RELEASED)
    return len(released)
