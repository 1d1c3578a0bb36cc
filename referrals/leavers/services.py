"""Employees who leave: their referral account is paid out and deactivated, or deactivated at
once, by ``REFERRAL_LEAVER_POLICY`` (docs/deployment.md). Nothing is lost and nothing is left
active by accident: every leaver is a row HR sees (the leavers queue) until it is done.

States: a leaver whose account is not (or not surely) known needs a person; under ``next_run``
it waits for a payout run (``awaiting_next_run``, then ``account_paid_out``); under ``at_once``
it is paying (a full-cash withdrawal), or waits for the payout run that already holds the
account's cash; then it is deactivating until Feishu confirms, and done.
A deactivation Feishu refused shows its reason and is asked again by ``leavers_sweep``.

Every write of a leaver marks the hour it arrived in for HR's trend (``trend``), in the
writing transaction: what became of a leaver is counted in the month it arrived.
"""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core import audit
from hireops.core.messages import Message
from hireops.tenants.mode import store_app

from ..accounts.models import AccountStatus, ReferralAccount, StatusAction
from ..accounts.services import StatusChangeRefused, account_status_request, accounts_of, user_of
from ..withdrawals.services import CASH, CashPromised, WithdrawalRefused, withdrawal_request
from .models import Leaver, LeaverMatch, LeaverPolicy, LeaverState
from .trend import mark_arrived, save_marked, update_marked

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from hireops.events.models import FeishuEvent

log = logging.getLogger(__name__)

NOT_REGISTERED = gettext_noop(
    "The account is not registered with Feishu: there is nothing to pay or deactivate there yet."
)
WITHDRAWAL_BUSY = gettext_noop(
    "Another withdrawal of this account is in progress: apply the policy again once it has finished."
)
WITHDRAWAL_FAILED = gettext_noop("The payout failed (see the account's withdrawals): decide what to do.")
DEACTIVATION_FAILED = gettext_noop("Feishu refused the deactivation; it is asked again: %(reason)s")
NONE_MATCHES = gettext_noop("No referral account matches this employee: match one by hand, or confirm none.")
SEVERAL_MATCH = gettext_noop(
    "Several referral accounts match this employee (%(accounts)s): pick one by hand."
)

# Change-history messages (hireops.core.audit), on the leaver, translated when read.
LEAVER_APPLIED = gettext_noop("Leaver's policy applied by hand.")
LEAVER_MATCHED = gettext_noop("Leaver matched by hand to account #%(account)s.")
LEAVER_NO_ACCOUNT = gettext_noop("Leaver confirmed without a referral account.")
LEAVER_HANDLED = gettext_noop("Leaver marked as handled.")

# A deactivation not confirmed this long after it was asked is asked again by the sweep.
RETRY_AFTER = timedelta(minutes=10)


class LeaverRefused(Exception):
    pass


def policy() -> str:
    value: str = settings.REFERRAL_LEAVER_POLICY
    if value not in LeaverPolicy.values:
        raise ImproperlyConfigured(
            f"REFERRAL_LEAVER_POLICY must be one of {', '.join(LeaverPolicy.values)}, not {value!r}"
        )
    return value


# --- from the directory events ---------------------------------------------------------------


def leaver_event(event: "FeishuEvent", how: str) -> Leaver:
    """contact.user.deleted_v3, or updated_v3 to resigned: the person's leaver (one per person
    and tenant, whichever event came first), matched and with the policy applied. Runs in the
    event's transaction; Feishu is called after it commits."""
    user = user_of(event.payload)
    tenant = event.tenant_key if store_app() else ""
    leaver, created = Leaver.objects.get_or_create(
        tenant_key=tenant,
        open_id=user.open_id,
        defaults={
            "union_id": user.union_id,
            "user_id": user.user_id,
            "name": user.name,
            "how": how,
            "source_event_id": event.event_id,
            "match": LeaverMatch.NONE,
        },
    )
    if created:
        mark_arrived([leaver.created_at])
        _match(leaver, accounts_of(user, event.tenant_key), user.user_id)
        if leaver.match == LeaverMatch.MATCHED:
            leaver_apply(leaver)
    return leaver


def _match(leaver: Leaver, accounts: list[ReferralAccount], user_id: str = "") -> None:
    leaver.candidates = [a.pk for a in accounts]
    if len(accounts) == 1:
        leaver.match, leaver.account, leaver.error = LeaverMatch.MATCHED, accounts[0], ""
        if user_id and not accounts[0].employee_id:  # found by email or mobile: remember the id
            ReferralAccount.objects.filter(pk=accounts[0].pk, employee_id="").update(
                employee_id=user_id, updated_at=timezone.now()
            )
    elif accounts:
        numbers = ", ".join(f"#{a.pk}" for a in accounts)
        leaver.match, leaver.account = LeaverMatch.SEVERAL, None
        leaver.error = Message(SEVERAL_MATCH, accounts=numbers)
    else:
        leaver.match, leaver.account, leaver.error = LeaverMatch.NONE, None, Message(NONE_MATCHES)
    leaver.state = LeaverState.NEEDS_PERSON
    save_marked(leaver)


# --- the policy ----------------------------------------------------------------------------------


def _cash(account: ReferralAccount) -> dict[str, str]:
    return {c.currency: str(c.amount) for c in account.cash.all()}


def leaver_apply(leaver: Leaver, user: "User | None" = None) -> Leaver:
    """Apply the policy to a matched leaver: the balance at this moment is recorded, then the
    cash is paid (now or in the next run) and the account deactivated, or it is deactivated."""
    with transaction.atomic():
        leaver = Leaver.objects.select_for_update().get(pk=leaver.pk)
        account = ReferralAccount.objects.select_for_update().get(pk=leaver.account_id)  # type: ignore[misc]  # a leaver with an account
        chosen = policy()
        cash = _cash(account)
        leaver.policy, leaver.points_then, leaver.cash_then = chosen, account.points, cash
        leaver.applied_at, leaver.error = timezone.now(), ""
        has_cash = any(Decimal(v) > 0 for v in cash.values())
        if not account.account_id or account.status in (AccountStatus.PENDING, AccountStatus.FAILED):
            leaver.state, leaver.error = LeaverState.NEEDS_PERSON, Message(NOT_REGISTERED)
        elif chosen == LeaverPolicy.DEACTIVATE or not has_cash:
            _deactivate(leaver, account, user)
        elif chosen == LeaverPolicy.NEXT_RUN:
            leaver.state = LeaverState.AWAITING_RUN
        else:
            try:
                leaver.withdrawal = withdrawal_request(account, [CASH], user, leaver_policy=True)
                leaver.state = LeaverState.PAYING
            except CashPromised:
                # An open payout run already holds the cash: that run pays it (a run pays every
                # leaver waiting for one), then the account is deactivated, as under next_run.
                leaver.state = LeaverState.AWAITING_RUN
            except WithdrawalRefused:
                leaver.state, leaver.error = LeaverState.NEEDS_PERSON, Message(WITHDRAWAL_BUSY)
        save_marked(leaver)
    log.info("leaver %s: policy %s, now %s", leaver.pk, chosen, leaver.state)
    return leaver


def _deactivate(leaver: Leaver, account: ReferralAccount, user: "User | None" = None) -> None:
    """Ask Feishu to deactivate (after the commit); an account already deactivated is done."""
    try:
        account_status_request(account, StatusAction.DEACTIVATE, user)
    except StatusChangeRefused:  # already deactivated, nothing pending
        _done(leaver)
        return
    leaver.state, leaver.error = LeaverState.DEACTIVATING, ""


def _done(leaver: Leaver) -> None:
    leaver.state, leaver.error, leaver.done_at = LeaverState.DONE, "", timezone.now()


# --- hooks of the payout, the withdrawal and the status change ----------------------------------


def awaiting_next_run() -> "QuerySet[Leaver, int]":
    """The accounts (pks) whose leaver waits for a payout run: every run pays them."""
    return Leaver.objects.filter(state=LeaverState.AWAITING_RUN, account__isnull=False).values_list(
        "account_id", flat=True
    )


def account_paid_out(account_pk: int) -> None:
    """A full-cash withdrawal of the account succeeded (a payout line, or a withdrawal): a
    leaver waiting for it moves on to the deactivation. Runs in the caller's transaction."""
    accounts_paid_out([account_pk])


def accounts_paid_out(account_pks: list[int]) -> None:
    """``account_paid_out`` for several accounts (a batch of paid payout lines): one question."""
    waiting = (LeaverState.AWAITING_RUN, LeaverState.PAYING)
    # The deactivation is sent after the leaver is saved. No savepoint inside the caller's
    # transaction (a withdrawal's or a paid line's effect, which fails whole if this fails):
    # two statements fewer on every line a payout run pays.
    with transaction.atomic(savepoint=False):
        leavers = Leaver.objects.select_for_update().filter(account_id__in=account_pks, state__in=waiting)
        for leaver in leavers.order_by("pk"):
            assert leaver.account_id is not None  # found by its account
            _deactivate(leaver, ReferralAccount.objects.get(pk=leaver.account_id))
            save_marked(leaver)


def withdrawal_failed(withdrawal_pk: int) -> None:
    """The leaver's payout failed for good: a person decides (apply again, or deactivate)."""
    update_marked(
        Leaver.objects.filter(withdrawal_id=withdrawal_pk, state=LeaverState.PAYING),
        state=LeaverState.NEEDS_PERSON,
        error=Message(WITHDRAWAL_FAILED),
        updated_at=timezone.now(),
    )


def account_deactivated(account_pk: int) -> None:
    update_marked(
        Leaver.objects.filter(account_id=account_pk, state=LeaverState.DEACTIVATING),
        state=LeaverState.DONE,
        error="",
        done_at=timezone.now(),
        updated_at=timezone.now(),
    )


def deactivation_refused(account_pk: int, reason: str) -> None:
    """Shown on the leaver; the sweep asks again (``leavers_sweep``)."""
    update_marked(
        Leaver.objects.filter(account_id=account_pk, state=LeaverState.DEACTIVATING),
        error=Message(DEACTIVATION_FAILED, reason=reason),
        updated_at=timezone.now(),
    )


def leavers_sweep(retry_after: timedelta = RETRY_AFTER) -> dict[str, int]:
    """Deactivating leavers: done once the account is deactivated (however Feishu told us);
    asked again when no change of the account is pending and it is still active."""
    deactivating = Leaver.objects.filter(state=LeaverState.DEACTIVATING)
    finished = deactivating.filter(account__status=AccountStatus.DEACTIVATED, account__pending_action="")
    done = update_marked(finished, state=LeaverState.DONE, done_at=timezone.now(), updated_at=timezone.now())
    stalled = deactivating.filter(
        account__status=AccountStatus.ACTIVE,
        account__pending_action="",
        updated_at__lt=timezone.now() - retry_after,
    )
    asked = 0
    for pk in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            leaver = Leaver.objects.select_for_update(of=("self",)).select_related("account").get(pk=pk)
            if leaver.state == LeaverState.DEACTIVATING:
                _deactivate(leaver, leaver.account)  # type: ignore[arg-type]  # deactivating: it has one
                save_marked(leaver)  # keeps the refusal shown until Feishu answers this one
                asked += 1
    return {"done": done, "asked_again": asked}


# --- HR's decisions (the leavers queue) ---------------------------------------------------------


def leaver_match_by_hand(leaver: Leaver, account: ReferralAccount, user: "User | None" = None) -> Leaver:
    if leaver.state != LeaverState.NEEDS_PERSON:
        raise LeaverRefused(_("Only a leaver that needs a person can be matched by hand."))
    if account.tenant_key != leaver.tenant_key:
        raise LeaverRefused(_("That account belongs to another tenant."))
    with transaction.atomic():
        update_marked(
            Leaver.objects.filter(pk=leaver.pk),
            match=LeaverMatch.MATCHED,
            account=account,
            error="",
            updated_at=timezone.now(),
        )
        leaver.refresh_from_db()
        leaver = leaver_apply(leaver, user)
        audit.record(user, [leaver], LEAVER_MATCHED, {"account": account.pk})
    return leaver


def leaver_no_account(leaver: Leaver, user: "User | None" = None) -> Leaver:
    """Staff confirm the employee has no referral account: nothing to apply."""
    if leaver.match not in (LeaverMatch.NONE, LeaverMatch.SEVERAL):
        raise LeaverRefused(_("This leaver is already matched to an account."))
    leaver.match, leaver.account = LeaverMatch.NO_ACCOUNT, None
    _done(leaver)
    with transaction.atomic():
        save_marked(leaver)
        audit.record(user, [leaver], LEAVER_NO_ACCOUNT)
    return leaver


def leaver_apply_now(leaver: Leaver, user: "User | None" = None) -> Leaver:
    """Staff's "apply the policy now": match again from the stored event when unmatched, apply
    when matched, ask again for a deactivation Feishu refused."""
    with transaction.atomic():
        leaver = _apply_now(leaver, user)
        audit.record(user, [leaver], LEAVER_APPLIED)
    return leaver


def _apply_now(leaver: Leaver, user: "User | None") -> Leaver:
    if leaver.state == LeaverState.DEACTIVATING:
        with transaction.atomic():
            locked = Leaver.objects.select_for_update(of=("self",)).select_related("account")
            leaver = locked.get(pk=leaver.pk)
            _deactivate(leaver, leaver.account, user)  # type: ignore[arg-type]  # deactivating: it has one
            save_marked(leaver)
        return leaver
    if leaver.state != LeaverState.NEEDS_PERSON:
        raise LeaverRefused(
            _("%(leaver)s is %(state)s: nothing to apply now.")
            % {"leaver": leaver, "state": leaver.get_state_display()}
        )
    if leaver.match in (LeaverMatch.NONE, LeaverMatch.SEVERAL):
        _rematch(leaver)
        if leaver.match != LeaverMatch.MATCHED:
            raise LeaverRefused(str(leaver.error))
    if leaver.match == LeaverMatch.NO_ACCOUNT:
        raise LeaverRefused(_("Confirmed without a referral account: nothing to apply."))
    return leaver_apply(leaver, user)


def _rematch(leaver: Leaver) -> None:
    from hireops.events.models import FeishuEvent

    event = FeishuEvent.objects.filter(event_id=leaver.source_event_id).first()
    if event is None:  # pruned: only the ids kept on the leaver remain
        user_id, accounts = leaver.user_id, []
        if user_id:
            accounts = list(ReferralAccount.objects.filter(tenant_key=leaver.tenant_key, employee_id=user_id))
    else:
        user = user_of(event.payload)
        user_id, accounts = user.user_id, accounts_of(user, event.tenant_key)
    _match(leaver, accounts, user_id)


def leaver_mark_handled(leaver: Leaver, user: "User | None" = None) -> Leaver:
    """Staff settled it outside hireops. Refused while its account is still active: that is
    what the leavers queue is there to prevent."""
    if leaver.state == LeaverState.DONE:
        raise LeaverRefused(_("Already done."))
    if leaver.account_id and leaver.account.status == AccountStatus.ACTIVE:  # type: ignore[union-attr]
        raise LeaverRefused(
            _("Its account is still active: apply the policy, or deactivate the account first.")
        )
    _done(leaver)
    leaver.handled_by_hand = True  # what became of the balance is not known here
    with transaction.atomic():
        save_marked(leaver)
        audit.record(user, [leaver], LEAVER_HANDLED)
    return leaver
