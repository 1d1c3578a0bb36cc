"""Refused sign-ins: a clear page for the person, a log line without personal data for operators."""

import hashlib
import logging
from enum import StrEnum

from allauth.core.exceptions import ImmediateHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from hireops.ops import metrics

log = logging.getLogger("hireops.signin")


class Reason(StrEnum):
    OTHER_TENANT = "other_tenant"
    UNKNOWN_USER = "unknown_user"
    INACTIVE = "inactive"
    NOT_STAFF = "not_staff"
    ALREADY_LINKED = "already_linked"
    INVITATION_INVALID = "invitation_invalid"
    INVITATION_OTHER_PERSON = "invitation_other_person"
    CONNECT_OFF = "connect_off"
    PASSWORD_OFF = "password_off"  # noqa: S105  (a reason's slug, not a password)
    FEISHU_OFF = "feishu_off"
    FEISHU_ERROR = "feishu_error"
    ENROLMENT_LINK_INVALID = "enrolment_link_invalid"
    ENROLMENT_LINK_OTHER_USER = "enrolment_link_other_user"


# Refusals of an enrolment link: counted under their own method, not as sign-ins with Feishu.
ENROLMENT_LINK_REASONS = frozenset({Reason.ENROLMENT_LINK_INVALID, Reason.ENROLMENT_LINK_OTHER_USER})


MESSAGES = {
    Reason.OTHER_TENANT: _(
        "This Feishu account belongs to another organisation. Sign in with your account of the "
        "company that runs hireops."
    ),
    Reason.UNKNOWN_USER: _(
        "This Feishu account is not linked to a hireops user. Ask an administrator for an "
        "invitation (or to give your hireops user your company email address)."
    ),
    Reason.INACTIVE: _("Your hireops user is deactivated. Ask an administrator if this is a mistake."),
    Reason.NOT_STAFF: _("Your user may not use hireops. Ask an administrator for a role."),
    Reason.ALREADY_LINKED: _(
        "This hireops user is already linked to another Feishu account. Ask an administrator."
    ),
    Reason.INVITATION_INVALID: _("This invitation link has expired or was used already. Ask for a new one."),
    Reason.INVITATION_OTHER_PERSON: _(
        "This invitation was made for another Feishu account. Only the colleague it names can use "
        "it; nothing was linked. If it is yours, sign in to Feishu with your own account and open "
        "the link again, or ask the administrator who invited you."
    ),
    Reason.CONNECT_OFF: _(
        "Linking another Feishu account to a signed-in user is not offered. Ask an administrator "
        "for an invitation."
    ),
    Reason.PASSWORD_OFF: _("Sign-in with a password is turned off. Sign in with Feishu."),
    Reason.FEISHU_OFF: _("Sign-in with Feishu is not set up here."),
    Reason.FEISHU_ERROR: _(
        "Feishu did not confirm who you are. Try again; if it keeps failing, tell an administrator."
    ),
    Reason.ENROLMENT_LINK_INVALID: _(
        "This enrolment link has expired or was used already. Ask an administrator for a new one."
    ),
    Reason.ENROLMENT_LINK_OTHER_USER: _(
        "This enrolment link was made for another hireops user; nothing was used. Sign out, sign "
        "in as the user it names and open it again, or ask the administrator who made it."
    ),
}


def pseudonym(value: str) -> str:
    """A short digest to follow one identity across log lines without naming it."""
    return hashlib.sha256(value.encode()).hexdigest()[:12] if value else "-"


def refusal_page(request, reason: Reason, status: int = 403, *, secret_path: bool = False):
    """``secret_path``: the URL holds a secret (an invitation's token). Django would log the
    refusal with its path; ``note_refusal`` has logged the reason instead."""
    response = render(
        request, "signin/refused.html", {"reason": reason, "message": MESSAGES[reason]}, status=status
    )
    if secret_path:
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log.log_response's own "done" mark
    return response


def note_refusal(
    reason: Reason, *, identity: str = "", tenant_key: str = "", user_id=None, detail: str = ""
) -> None:
    """A log line with the reason, the tenant, a pseudonym of the Feishu identity and the
    hireops user's id (never a name, email or mobile), and the sign-in metric: a burst of
    feishu_error says the login app's secret or redirect URL broke."""
    method = "password" if reason is Reason.PASSWORD_OFF else "feishu"
    if reason in ENROLMENT_LINK_REASONS:
        method = "enrolment_link"
    metrics.signins.labels(method, reason.value).inc()
    log.warning(
        "sign-in refused: %s (feishu %s, tenant %s, user %s)%s",
        reason.value,
        pseudonym(identity),
        tenant_key or "-",
        user_id if user_id is not None else "-",
        f": {detail}" if detail else "",
    )


def note_signed_in(method: str) -> None:
    metrics.signins.labels(method, "signed_in").inc()


def refuse(request, reason: Reason, *, identity: str = "", tenant_key: str = "", user_id=None):
    """Stop the sign-in here, with a page that says why (and ``note_refusal``)."""
    note_refusal(reason, identity=identity, tenant_key=tenant_key, user_id=user_id)
    raise ImmediateHttpResponse(refusal_page(request, reason))
