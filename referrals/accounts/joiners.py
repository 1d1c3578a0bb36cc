"""New employees (contact.user.created_v3): with ``REFERRAL_REGISTER_JOINERS`` on, each gets a
referral account registered by the email or mobile Feishu sends (none without field scopes)."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from hireops.tenants.mode import store_app

from .directory import user_of
from .identity import person
from .models import ReferralAccount
from .registration import AlreadyRegistered, account_register

log = logging.getLogger(__name__)


def _mobile(raw: str) -> tuple[str, str]:
    """(code, number) from Feishu's mobile: "+86…" or a bare number (read as +86); another
    country's "+<code><number>" cannot be split surely, so it is not used (the email is)."""
    if raw.startswith("+86"):
        return "86", raw[3:]
    return ("86", raw) if raw and not raw.startswith("+") else ("", "")


def joiner_register(event) -> ReferralAccount | None:
    if not settings.REFERRAL_REGISTER_JOINERS:
        return None
    user = user_of(event.payload)
    code, number = _mobile(user.mobile)
    email = user.emails[0] if user.emails else ""
    try:
        who = person(name=user.name, mobile_code=code, mobile_number=number, email=email)
    except ValidationError:
        try:  # a mobile that does not read as one: the email alone
            who = person(name=user.name, email=email)
        except ValidationError:
            log.info("joiner event %s: no usable email or mobile, no account registered", event.event_id)
            return None
    tenant = event.tenant_key if store_app() else ""
    try:
        account = account_register(who, None, tenant)
    except AlreadyRegistered as exc:
        account = exc.account
        log.info("joiner event %s: already has account %s", event.event_id, account.pk if account else None)
    if account is not None and user.user_id and not account.employee_id:
        ReferralAccount.objects.filter(pk=account.pk, employee_id="").update(
            employee_id=user.user_id, updated_at=timezone.now()
        )
    return account
