"""Feishu's directory events (contact.user.*_v3) as the referrals read them, and which referral
accounts an employee they name may hold (docs/feishu.md §17).

Matching uses what Feishu sends and the account holds, nothing else: the employee id
(``user_id``) when the account has one, else the email (either mailbox) or the mobile. None
or several matching accounts is an answer for a person, never a guess.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_noop

from hireops.core.messages import Message
from hireops.tenants.scoping import of_tenant

from .models import ReferralAccount

NO_USER = gettext_noop("The directory event names no employee (no event.object.open_id).")

CREATED, UPDATED, DELETED = "contact.user.created_v3", "contact.user.updated_v3", "contact.user.deleted_v3"


@dataclass(frozen=True)
class DirectoryUser:
    open_id: str
    union_id: str
    user_id: str
    name: str
    # Only with the app's field scopes (custom apps): empty otherwise. Never stored or logged.
    emails: tuple[str, ...]
    mobile: str


def _text(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def user_of(payload: dict) -> DirectoryUser:
    """``event.object`` of a contact.user event; a payload without an employee is refused
    (ValueError with a Message: the event log shows it, nothing is written)."""
    body = payload.get("event") if isinstance(payload, dict) else None
    obj = body.get("object") if isinstance(body, dict) else None
    if not isinstance(obj, dict) or not _text(obj.get("open_id"), 128):
        raise ValueError(Message(NO_USER))
    emails = tuple(
        dict.fromkeys(e.lower() for e in (_text(obj.get(k), 254) for k in ("email", "enterprise_email")) if e)
    )
    return DirectoryUser(
        open_id=_text(obj["open_id"], 128),
        union_id=_text(obj.get("union_id"), 128),
        user_id=_text(obj.get("user_id"), 128),
        name=_text(obj.get("name"), 100),
        emails=emails,
        mobile=_text(obj.get("mobile"), 32),
    )


def resigned(payload: dict) -> bool:
    """contact.user.updated_v3 that marks the employee resigned (``object.status.is_resigned``).
    Every later update of a resigned employee says so too; the leaver is one row per person."""
    body = payload.get("event") if isinstance(payload, dict) else None
    obj = body.get("object") if isinstance(body, dict) else None
    status = obj.get("status") if isinstance(obj, dict) else None
    return isinstance(status, dict) and status.get("is_resigned") is True


def mobile_query(mobile: str) -> Q | None:
    """The accounts holding ``mobile`` as Feishu writes it. UNCONFIRMED (docs/feishu.md §13.1):
    "+<code><number>" (the split is tried at every country-code length) or a bare number,
    read as a mainland China one (+86)."""
    digits = "".join(ch for ch in mobile if ch.isdigit())
    if len(digits) < 5:
        return None
    if not mobile.startswith("+"):
        return Q(mobile_code="86", mobile_number=digits)
    query = Q(pk__in=[])
    for k in range(1, 5):
        query |= Q(mobile_code=digits[:k], mobile_number=digits[k:])
    return query


def accounts_of(user: DirectoryUser, tenant_key: str) -> list[ReferralAccount]:
    """The tenant's accounts this employee holds: by employee id first (an account that has
    one is this person's or nobody's), else by email or mobile."""
    accounts = of_tenant(ReferralAccount.objects.all(), tenant_key)
    if user.user_id:
        by_id = list(accounts.filter(employee_id=user.user_id).order_by("pk"))
        if by_id:
            return by_id
    query = Q(pk__in=[])
    if user.emails:
        query |= Q(email__in=user.emails)
    by_mobile = mobile_query(user.mobile) if user.mobile else None
    if by_mobile is not None:
        query |= by_mobile
    found = accounts.filter(query)
    if user.user_id:  # an account known to be someone else's is not this person's
        found = found.filter(employee_id__in=["", user.user_id])
    return list(found.order_by("pk"))
