"""Registering referral accounts with Feishu: the account and its registration (a call row)
committed first, then the call, sent by the outbound engine in Celery."""

import logging
from typing import TypedDict

from django.contrib.admin.models import ADDITION
from django.db import IntegrityError, transaction
from django.db.models import F
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

from .balances import BalanceRefused, balance_apply
from .identity import Person
from .models import AccountRegistration, AccountStatus, BalanceSource, ReferralAccount

log = logging.getLogger(__name__)

TWIN = gettext_noop("Feishu says this is the same employee as account #%(pk)s (%(name)s).")
NOT_PENDING = gettext_noop("Not sent: the account no longer waits for its registration.")
# Change-history messages (hireops.core.audit), on the account, translated when read.
IMPORTED = gettext_noop("Added from a CSV import; registration queued.")
REGISTRATION_RETRIED = gettext_noop("Registration retried.")


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
    """Create the account row (pending) with its registration (a call row) and queue the call.
    One account per person and tenant ("": a self-built app's own)."""
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
            _queue(account, user)
    except IntegrityError as exc:  # a concurrent registration of the same person won
        raise AlreadyRegistered(existing_account(p, tenant_key)) from exc  # type: ignore[arg-type]  # the winner's
    return account


def account_import(p: Person, user=None, tenant_key: str = "") -> ReferralAccount:
    """One row of an accounts import: registered as the add form registers (whose entry in the
    change history is the admin's own "Added."), recorded as added from the file."""
    with transaction.atomic():
        account = account_register(p, user, tenant_key)
        audit.record(user, [account], IMPORTED, flag=ADDITION)
    return account


def _queue(account: ReferralAccount, user) -> AccountRegistration:
    row = AccountRegistration.objects.create(account=account, requested_by=user)
    REGISTER.send_on_commit(row.pk)
    return row


def registration_retry(account: ReferralAccount, user=None) -> bool:
    """Staff's "Retry registration" of a failed account: pending again, with a new call row."""
    with transaction.atomic():
        updated = ReferralAccount.objects.filter(pk=account.pk, status=AccountStatus.FAILED).update(
            status=AccountStatus.PENDING, error="", error_code=None, updated_at=timezone.now()
        )
        if updated:
            _queue(account, user)
            audit.record(user, [account], REGISTRATION_RETRIED)
    return bool(updated)


def _account_failed(account_pk: int, reason, code=None) -> None:
    ReferralAccount.objects.filter(pk=account_pk, status=AccountStatus.PENDING).update(
        status=AccountStatus.FAILED, error=reason, error_code=code, updated_at=timezone.now()
    )


# --- the call, on the outbound engine (hireops.outbound) --------------------------------


class Registrant(TypedDict):
    """Whom a registration asks Feishu to register: the person as the account holds them."""

    mobile: tuple[str, str] | None  # (country code, number)
    email: str | None
    tenant_key: str | None


def _prepare(row: AccountRegistration) -> Registrant | None:
    """The person as the account holds them now; nothing to send for an account that no
    longer waits for its registration (registered meanwhile, or failed and given up)."""
    account = row.account
    if account.status != AccountStatus.PENDING:
        outbound.close(REGISTER, row, CallStatus.FAILED, error=Message(NOT_PENDING))
        return None
    ReferralAccount.objects.filter(pk=account.pk).update(
        attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    mobile = (account.mobile_code, account.mobile_number) if account.mobile_number else None
    return {"mobile": mobile, "email": account.email or None, "tenant_key": account.tenant_key or None}


def _call(row: AccountRegistration, person: Registrant) -> hire.ReferralAccount:
    return hire.create_referral_account(
        get_client(), mobile=person["mobile"], email=person["email"], tenant_key=person["tenant_key"]
    )


def _effect(row: AccountRegistration, person: Registrant, remote: hire.ReferralAccount) -> None:
    """Feishu registered the person: the account takes its id, status and balance."""
    pk = row.account_id
    try:
        with transaction.atomic():
            ReferralAccount.objects.filter(pk=pk).update(
                account_id=remote.account_id,
                status=AccountStatus.from_feishu(remote.status),
                error="",
                error_code=None,
                updated_at=timezone.now(),
            )
    except IntegrityError:  # another account here already holds that Feishu id
        twin = ReferralAccount.objects.get(account_id=remote.account_id)
        reason = Message(TWIN, pk=twin.pk, name=twin.name or twin.account_id)
        AccountRegistration.objects.filter(pk=row.pk).update(status=CallStatus.FAILED, error=reason)
        _account_failed(pk, reason)
        return
    try:
        balance_apply(pk, remote.assets, modify_time=None, source=BalanceSource.REGISTRATION)
    except BalanceRefused as exc:  # registered all the same; the account shows why it has no balance
        ReferralAccount.objects.filter(pk=pk).update(balance_error=exc.args[0], updated_at=timezone.now())
    log.info("referral account %s registered as %s", pk, remote.account_id)


def _retrying(row: AccountRegistration, person: Registrant, exc: FeishuError, failure: Failure) -> None:
    """Shown on the account while the call waits for its next try."""
    ReferralAccount.objects.filter(pk=row.account_id).update(
        error=failure.reason, error_code=failure.code, updated_at=timezone.now()
    )


def _closed(row: AccountRegistration) -> None:
    """A registration that ended failed (Feishu refused it, or it was given up after every
    retry) fails its account with the row's reason; staff can retry it (a new row)."""
    failed = AccountRegistration.objects.filter(pk=row.pk, status=CallStatus.FAILED)
    for error, code in failed.values_list("error", "error_code"):
        _account_failed(row.account_id, error, code)


# The referrals' sync pass (referrals.sync, every 5 minutes) sends what is still queued, so no
# sweep of the engine's own.
REGISTER: FeishuKind[AccountRegistration, Registrant, hire.ReferralAccount] = outbound.register(
    outbound.Outbound(
        name="referrals.register_account",
        model=AccountRegistration,
        related=("account",),
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        effect=_effect,
        retrying=_retrying,
        closed=_closed,
        swept_by="referrals.sync_pending",
    )
)
