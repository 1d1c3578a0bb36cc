"""Who may add a first second factor: a session that proved more than the password.

Enrolment is the moment a stolen password is worth most: whoever adds the first factor decides
which phone or key will be asked for from then on. So a first factor (an authenticator app, a
security key, or recovery codes alone) is added only by a session that, within the last
ENROLMENT_PROOF_MINUTES, either

- signed in with Feishu, which proved the person its own way (the ``socialaccount`` step
  allauth and ``signals._feishu_sign_in`` note), or
- opened an enrolment link an administrator issued for this very user (``EnrolmentLink``:
  once, before it expires, in a session already signed in as that user).

A password, typed minutes ago or not, never counts. The rule holds for every user, not only
those whose role needs a second factor now: a permission that moves money can be given
later, and a user administrator could otherwise enrol with a password and then grant
themselves money (docs/second-factor.md). A factor added to a user who has one already needs
that factor instead (``second_factor.require_fresh``).

Checked on the rows (``changes.py``), so no page can forget it, and before allauth's pages show
a secret (``middleware.py``, ``AccountAdapter``), where the person gets the guide
(``views.enrol``) that explains both ways. Outside a request nothing applies, as for every
other rule of ``changes.py``.
"""

import logging
import time

from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from . import second_factor
from .models import EnrolmentLink, digest
from .refusals import Reason

log = logging.getLogger("hireops.signin")

FEISHU, LINK = "feishu", "link"
LINK_STEP = "enrolment_link"  # the step's name in the session's record of its sign-in steps


def proof(request) -> str | None:
    """How this session may add a first factor now (``FEISHU`` or ``LINK``), or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    since = time.time() - settings.ENROLMENT_PROOF_MINUTES * 60
    for step in reversed(get_authentication_records(request, user)):
        if step.get("at", 0) <= since:
            continue
        if step.get("method") == "socialaccount" and step.get("provider") == "feishu":
            return FEISHU
        if step.get("method") == LINK_STEP:
            return LINK
    return None


def guide_url(next_url: str = "") -> str:
    url = reverse("signin_enrol")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def safe_next(request) -> str:
    target = request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def require_proof(request, user_id) -> None:
    """Stop adding a first factor to user ``user_id`` unless this session, signed in as them,
    has the proof. Their own page: the guide. Someone else's factor: no page adds it."""
    if request.user.pk != user_id:
        raise PermissionDenied
    if proof(request) is None:
        raise ImmediateHttpResponse(HttpResponseRedirect(guide_url(safe_next(request))))


class LinkRefused(Exception):
    def __init__(self, reason: Reason):
        super().__init__(reason)
        self.reason = reason


class AlreadyEnrolled(Exception):
    pass


def usable_link(token: str) -> EnrolmentLink | None:
    """The enrolment link ``token`` names, unless it is unknown, used or expired."""
    return EnrolmentLink.objects.usable().filter(token_digest=digest(token)).first()


def open_link(request, link: EnrolmentLink) -> None:
    """Use ``link`` in this session, signed in as the user it was issued for: the link is
    spent and the session may add a first factor for the next minutes. Nothing is spent when
    it is refused (``LinkRefused``: another user's, or used meanwhile), nor for a user who has
    a factor already (``AlreadyEnrolled``)."""
    if link.user_id != request.user.pk:
        raise LinkRefused(Reason.ENROLMENT_LINK_OTHER_USER)
    if second_factor.enrolled(request.user):
        raise AlreadyEnrolled
    if not EnrolmentLink.objects.usable().filter(pk=link.pk).update(used_at=timezone.now()):
        raise LinkRefused(Reason.ENROLMENT_LINK_INVALID)  # used in another tab a moment ago
    second_factor.record(request, request.user, LINK_STEP, link=link.pk)
    log.info("enrolment link %s used by user %s", link.pk, request.user.pk)
