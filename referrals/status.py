"""Enable / deactivate. A deactivated account gets no balance events and cannot withdraw."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core.feishu_errors import judge
from hireops.core.messages import Message
from hireops.core.retry import TryLater
from hireops.feishu import FeishuError, get_client, hire

from .models import AccountStatus, ReferralAccount, StatusAction


class StatusChangeRefused(Exception):
    pass


def account_status_request(account: ReferralAccount, action: str) -> None:
    from .tasks import change_status

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
    ReferralAccount.objects.filter(pk=account.pk).update(
        pending_action=action, action_error="", updated_at=timezone.now()
    )
    transaction.on_commit(lambda: change_status.delay(account.pk))


def status_change_run(pk: int) -> str:
    account = ReferralAccount.objects.get(pk=pk)
    action = account.pending_action
    if not action:
        return account.status
    call = hire.enable_referral_account if action == StatusAction.ENABLE else hire.deactivate_referral_account
    try:
        remote = call(get_client(), account.account_id, tenant_key=account.tenant_key or None)
    except FeishuError as exc:
        failure = judge(exc)
        if not failure.retry:
            ReferralAccount.objects.filter(pk=pk, pending_action=action).update(
                pending_action="", action_error=failure.reason
            )
            return account.status
        ReferralAccount.objects.filter(pk=pk).update(action_error=failure.reason)
        raise TryLater(failure.reason) from exc
    status = AccountStatus.from_feishu(remote.status)
    ReferralAccount.objects.filter(pk=pk, pending_action=action).update(
        status=status, pending_action="", action_error=""
    )
    return status


def status_change_give_up(pk: int, reason: str) -> str:
    ReferralAccount.objects.filter(pk=pk).update(
        action_error=Message(
            gettext_noop("Feishu could not be reached; the change is still pending: %(reason)s"),
            reason=reason,
        )
    )
    return ReferralAccount.objects.get(pk=pk).status
