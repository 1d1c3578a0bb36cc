"""Enable / deactivate. A deactivated account gets no balance events and cannot withdraw.

A change staff ask for is an ``AccountStatusChange`` row (a call row) committed with the
account's ``pending_action`` (what the list and the dashboard show), sent by the outbound
engine. A newer change replaces one still waiting; one being sent goes first, so Feishu ends
with the last change asked for.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message, stored_as
from hireops.core.models import CallStatus
from hireops.feishu import FeishuError, get_client, hire
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.feishu_calls.failures import Failure
from hireops.outbound.retry import TryLater

from . import announce
from .models import AccountStatus, AccountStatusChange, ReferralAccount, StatusAction
from .signals import account_deactivated, deactivation_refused

REPLACED = gettext_noop("Not sent: a later change of this account replaced it.")
NOT_REGISTERED = gettext_noop("Not sent: the account is not registered with Feishu.")
BUSY = gettext_noop("Another change of this account is being sent; this one is sent after it.")
STILL_PENDING = gettext_noop("Feishu could not be reached; the change is still pending: %(reason)s")
# Change-history messages (hireops.core.audit), on the account, translated when read.
STATUS_REQUESTED: dict[str, str] = {
    StatusAction.ENABLE: gettext_noop("Enabling requested."),
    StatusAction.DEACTIVATE: gettext_noop("Deactivation requested."),
}


class StatusChangeRefused(Exception):
    pass


def account_status_request(account: ReferralAccount, action: str, user=None) -> AccountStatusChange:
    if action not in StatusAction.values:
        raise StatusChangeRefused(f"unknown action {action!r}")
    if not account.account_id or account.status not in (AccountStatus.ACTIVE, AccountStatus.DEACTIVATED):
        raise StatusChangeRefused(_("%(account)s is not registered with Feishu yet.") % {"account": account})
    target = AccountStatus.ACTIVE if action == StatusAction.ENABLE else AccountStatus.DEACTIVATED
    if account.status == target and not account.pending_action:
        raise StatusChangeRefused(
            _("%(account)s is already %(status)s.")
            % {"account": account, "status": account.get_status_display()}
        )
    with transaction.atomic():
        # A change still waiting (not being sent) is replaced: only the last one asked counts.
        AccountStatusChange.objects.filter(
            outbound.not_being_sent(timezone.now()), account=account, status=CallStatus.QUEUED
        ).update(status=CallStatus.FAILED, finished_at=timezone.now(), error=Message(REPLACED))
        row = AccountStatusChange.objects.create(account=account, action=action, requested_by=user)
        ReferralAccount.objects.filter(pk=account.pk).update(
            pending_action=action, action_error="", updated_at=timezone.now()
        )
        CHANGE.send_on_commit(row.pk)
        audit.record(user, [account], STATUS_REQUESTED[action])
    return row


# --- the call, on the outbound engine (hireops.outbound) --------------------------------


def _prepare(row: AccountStatusChange) -> str | None:
    account = row.account
    if not account.account_id:
        outbound.close(CHANGE, row, CallStatus.FAILED, error=Message(NOT_REGISTERED))
        return None
    earlier = AccountStatusChange.objects.filter(account=account, status=CallStatus.QUEUED, pk__lt=row.pk)
    if earlier.filter(leased_until__gt=timezone.now()).exists():
        raise TryLater(BUSY)  # one change of an account at a time, in the order asked
    return row.action


def _call(row: AccountStatusChange, action: str) -> hire.ReferralAccount:
    call = hire.enable_referral_account if action == StatusAction.ENABLE else hire.deactivate_referral_account
    return call(get_client(), row.account.account_id, tenant_key=row.account.tenant_key or None)  # type: ignore[arg-type]


def _this_change(row: AccountStatusChange):
    """The account, while this row's change is the one it shows as pending (no later change
    of it waits)."""
    later = AccountStatusChange.objects.filter(
        account_id=row.account_id, status=CallStatus.QUEUED, pk__gt=row.pk
    )
    if later.exists():
        return ReferralAccount.objects.none()
    return ReferralAccount.objects.filter(pk=row.account_id, pending_action=row.action)


def _effect(row: AccountStatusChange, action: str, remote: hire.ReferralAccount) -> None:
    """Feishu's answer carries the account's status: it is the account's now."""
    status = AccountStatus.from_feishu(remote.status)
    moved = (
        ReferralAccount.objects.filter(pk=row.account_id)
        .exclude(status=status)
        .update(status=status, updated_at=timezone.now())
    )
    _this_change(row).update(pending_action="", action_error="", updated_at=timezone.now())
    if status == AccountStatus.DEACTIVATED:
        account_deactivated.send(AccountStatusChange, account_pk=row.account_id)  # a leaver is done
        if moved:
            announce.deactivated(row.account_id)


def _retrying(row: AccountStatusChange, action: str, exc: FeishuError, failure: Failure) -> None:
    ReferralAccount.objects.filter(pk=row.account_id).update(
        action_error=failure.reason, updated_at=timezone.now()
    )


def _refused(row: AccountStatusChange, action: str, exc: FeishuError, failure: Failure) -> None:
    _this_change(row).update(pending_action="", action_error=failure.reason, updated_at=timezone.now())
    if action == StatusAction.DEACTIVATE:
        # Shown on the leaver, asked again.
        deactivation_refused.send(AccountStatusChange, account_pk=row.account_id, reason=failure.reason)


def _give_up(pk: int, reason: str) -> str:
    """Out of retries with Feishu unreachable: the change stays queued (asking again is
    harmless), and the sync pass sends it again later."""
    row = AccountStatusChange.objects.get(pk=pk)
    message = Message(STILL_PENDING, reason=reason)
    AccountStatusChange.objects.filter(pk=pk, status=CallStatus.QUEUED).update(error=message)
    ReferralAccount.objects.filter(pk=row.account_id).update(action_error=message, updated_at=timezone.now())
    return CallStatus.QUEUED


# The referrals' sync pass (referrals.sync, every 5 minutes) sends what is still queued.
# Its body is the change's action (``StatusAction``): enable or deactivate.
CHANGE: FeishuKind[AccountStatusChange, str, hire.ReferralAccount] = outbound.register(
    outbound.Outbound(
        name="referrals.change_status",
        model=AccountStatusChange,
        related=("account",),
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        effect=_effect,
        retrying=_retrying,
        refused=_refused,
        give_up=_give_up,
        swept_by="referrals.sync_pending",
        # A change replaced by a later one before it was sent is closed failed: nothing failed.
        watch=outbound.Watch(failures=~stored_as("error", REPLACED)),
    )
)
