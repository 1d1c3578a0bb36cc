"""Registering referral accounts with Feishu: committed row first, then the call in Celery."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core.feishu_errors import judge
from hireops.core.messages import Message
from hireops.core.retry import GAVE_UP, TryLater
from hireops.feishu import FeishuError, get_client, hire

from .balances import BalanceRefused, balance_apply
from .identity import Person
from .models import AccountStatus, BalanceSource, ReferralAccount

log = logging.getLogger(__name__)


class AlreadyRegistered(Exception):
    """The message does not say which account: an import report or a form would otherwise
    tell whoever typed a mobile or email who owns it (the admin links it for users who may
    see personal data)."""

    def __init__(self, account: ReferralAccount):
        super().__init__(_("This person already has a referral account."))
        self.account = account


def existing_account(p: Person, tenant_key: str = "") -> ReferralAccount | None:
    qs = ReferralAccount.objects.none()
    if p.mobile_number:
        qs |= ReferralAccount.objects.filter(mobile_code=p.mobile_code, mobile_number=p.mobile_number)
    if p.email:
        qs |= ReferralAccount.objects.filter(email=p.email)
    return qs.filter(tenant_key=tenant_key).first()


def account_register(p: Person, user=None, tenant_key: str = "") -> ReferralAccount:
    """Create the account row (pending) and queue its registration. One row per person and
    tenant ("": a self-built app's own)."""
    from .tasks import register_account

    found = existing_account(p, tenant_key)
    if found:
        raise AlreadyRegistered(found)
    try:
        with transaction.atomic():
            account = ReferralAccount.objects.create(
                tenant_key=tenant_key,
                name=p.name,
                mobile_code=p.mobile_code,
                mobile_number=p.mobile_number,
                email=p.email,
                created_by=user,
            )
            transaction.on_commit(lambda: register_account.delay(account.pk))
    except IntegrityError as exc:  # a concurrent registration of the same person won
        raise AlreadyRegistered(existing_account(p, tenant_key)) from exc
    return account


def registration_retry(account: ReferralAccount) -> bool:
    from .tasks import register_account

    updated = ReferralAccount.objects.filter(pk=account.pk, status=AccountStatus.FAILED).update(
        status=AccountStatus.PENDING, error="", error_code=None, updated_at=timezone.now()
    )
    if updated:
        transaction.on_commit(lambda: register_account.delay(account.pk))
    return bool(updated)


def _fail(pk: int, reason: str, code=None) -> str:
    ReferralAccount.objects.filter(pk=pk, status=AccountStatus.PENDING).update(
        status=AccountStatus.FAILED, error=reason, error_code=code
    )
    return AccountStatus.FAILED


def registration_run(pk: int) -> str:
    claimed = ReferralAccount.objects.filter(pk=pk, status=AccountStatus.PENDING).update(
        attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    account = ReferralAccount.objects.get(pk=pk)
    if not claimed:
        return account.status
    mobile = (account.mobile_code, account.mobile_number) if account.mobile_number else None
    try:
        remote = hire.create_referral_account(
            get_client(), mobile=mobile, email=account.email or None, tenant_key=account.tenant_key or None
        )
    except FeishuError as exc:
        failure = judge(exc)
        if not failure.retry:
            return _fail(pk, failure.reason, failure.code)
        ReferralAccount.objects.filter(pk=pk).update(error=failure.reason, error_code=failure.code)
        raise TryLater(failure.reason) from exc
    status = AccountStatus.from_feishu(remote.status)
    try:
        with transaction.atomic():
            ReferralAccount.objects.filter(pk=pk).update(
                account_id=remote.account_id, status=status, error="", error_code=None
            )
    except IntegrityError:
        twin = ReferralAccount.objects.get(account_id=remote.account_id)
        return _fail(
            pk,
            Message(
                gettext_noop("Feishu says this is the same employee as account #%(pk)s (%(name)s)."),
                pk=twin.pk,
                name=twin.name or twin.account_id,
            ),
        )
    try:
        balance_apply(pk, remote.assets, modify_time=None, source=BalanceSource.REGISTRATION)
    except BalanceRefused as exc:  # registered all the same; the account shows why it has no balance
        ReferralAccount.objects.filter(pk=pk).update(balance_error=exc.args[0])
    log.info("referral account %s registered as %s", pk, remote.account_id)
    return status


def registration_give_up(pk: int, reason: str) -> str:
    return _fail(pk, Message(GAVE_UP, reason=reason))
