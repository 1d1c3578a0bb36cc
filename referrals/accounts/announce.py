"""What the HR side tells partners' webhooks of an account, written in the transaction of the
change (``hireops.webhooks.emit``; the types and their data are declared in ``webhook_events``)."""

from hireops.webhooks.events import emit

from .models import ReferralAccount


def _account(type_name: str, account_pk: int) -> None:
    account = ReferralAccount.objects.filter(pk=account_pk).first()
    if account is not None:
        emit(type_name, account, tenant_key=account.tenant_key)


def balance_changed(account_pk: int) -> None:
    _account("referral_account.balance_changed", account_pk)


def deactivated(account_pk: int) -> None:
    _account("referral_account.deactivated", account_pk)
