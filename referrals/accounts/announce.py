"""What the HR side tells partners' webhooks of an account, written in the transaction of the
change (``hireops.webhooks.emit``; the types and their data are declared in ``webhook_events``)."""

from hireops.webhooks.events import audience, emit

from .models import ReferralAccount


def _accounts(type_name: str, account_pks: list[int]) -> None:
    # The accounts are read only when someone may hear of the type: a balance changes on every
    # event and every paid payout line, and most deployments have no partner listening.
    heard = audience(type_name) if account_pks else None
    if not heard:
        return
    for account in ReferralAccount.objects.filter(pk__in=account_pks).order_by("pk"):
        emit(type_name, account, tenant_key=account.tenant_key, heard=heard)


def balances_changed(account_pks: list[int]) -> None:
    _accounts("referral_account.balance_changed", account_pks)


def deactivated(account_pk: int) -> None:
    _accounts("referral_account.deactivated", [account_pk])
