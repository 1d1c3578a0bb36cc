"""allauth's hooks: who may sign in with Feishu, as whom, and where Feishu is.

allauth 65's Feishu provider (the historic login: ``authen/v1/index``, ``authen/v1/access_token``,
``authen/v1/user_info``; docs/feishu.md §16) is used as it ships. Its three server-to-server URLs
are class attributes with no setting, so ``get_requests_session`` routes Feishu's origin to
FEISHU_LOGIN_BASE_URL when that is another host (the sandbox): no patch of allauth.
"""

import logging

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse, ReauthenticationRequired
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from hireops.core.web.client_address import client_ip

from . import enrolment, second_factor
from .models import FeishuInvitation
from .refusals import Reason, note_refusal, pseudonym, refusal_page, refuse

log = logging.getLogger("hireops.signin")

FEISHU_ORIGIN = "https://open.feishu.cn"
INVITATION_SESSION_KEY = "signin_feishu_invitation"


class _ToBaseUrl(requests.adapters.HTTPAdapter):
    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        request.url = self.base + request.url[len(FEISHU_ORIGIN) :]
        return super().send(request, stream, timeout, verify, cert, proxies)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False  # staff users are created by administrators, never by signing in

    def pre_login(self, request, user, **kwargs):
        if user.is_active and not user.is_staff:
            clear_login(request)
            note_refusal(Reason.NOT_STAFF, user_id=user.pk)
            return refusal_page(request, Reason.NOT_STAFF)
        return super().pre_login(request, user, **kwargs)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks this at each of its sensitive points (recovery codes seen or made, an
        authenticator added or removed, and any it adds later). allauth would take a password
        typed minutes ago, which is what a stolen password gives. Once a user has a factor,
        only that factor proven minutes ago will do; without one, the only such point is
        adding the first, which needs the enrolment's proof (a Feishu sign-in or an enrolment
        link, hireops.signin.enrolment): without it, the guide."""
        request = context.request
        if request is not None and request.user.is_authenticated:
            if not second_factor.enrolled(request.user):
                enrolment.require_proof(request, request.user.pk)
                return False
            if second_factor.fresh(request):
                return False
            raise ReauthenticationRequired()
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_reauthentication_methods(self, user):
        """The ways to confirm it is you: for a user with a factor, that factor only (offering
        the password would lead back here)."""
        methods = super().get_reauthentication_methods(user)
        if user.is_authenticated and second_factor.enrolled(user):
            return [m for m in methods if m["id"].startswith("mfa_")]
        return methods

    def get_client_ip(self, request) -> str:
        # allauth's rate limits and its security mails: the address django-axes counts too.
        return client_ip(request) or super().get_client_ip(request)

    def send_notification_mail(self, template_prefix, user, context=None, email=None) -> None:
        """A security notification (ACCOUNT_EMAIL_NOTIFICATIONS) that cannot be sent is not
        worth failing the change it tells about: the change is in the history already."""
        try:
            super().send_notification_mail(template_prefix, user, context, email)
        except Exception as exc:  # any mail backend's error
            log.warning(
                "security notification %s to user %s not sent: %s",
                template_prefix,
                user.pk,
                type(exc).__name__,
            )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_requests_session(self):
        session = super().get_requests_session()
        base = settings.FEISHU_LOGIN_BASE_URL.rstrip("/")
        if base != FEISHU_ORIGIN:
            session.mount(FEISHU_ORIGIN, _ToBaseUrl(base))
        return session

    def is_open_for_signup(self, request, sociallogin):
        return False

    def pre_social_login(self, request, sociallogin):
        """Only a staff user that exists, is active and is (or now becomes) linked to this
        Feishu identity, of a configured tenant, signs in."""
        data = sociallogin.account.extra_data or {}
        identity, tenant = sociallogin.account.uid, str(data.get("tenant_key") or "")
        context = {"identity": identity, "tenant_key": tenant}
        invitation = _take_invitation(request)
        if sociallogin.state.get("process", AuthProcess.LOGIN) != AuthProcess.LOGIN:
            # "connect": another identity onto the signed-in user, a takeover path. Only an
            # invitation or the company mailbox links an identity, at sign-in.
            refuse(request, Reason.CONNECT_OFF, **context)
        if not settings.FEISHU_LOGIN_TENANTS:
            refuse(request, Reason.FEISHU_OFF, **context)
        if tenant not in settings.FEISHU_LOGIN_TENANTS:
            refuse(request, Reason.OTHER_TENANT, **context)
        if sociallogin.is_existing:
            _check_staff(request, sociallogin.user, context)
            return
        if invitation and not invitation.names(data):
            # Someone else opened the link: nothing is linked and the invitation stays usable
            # for the person it names.
            refuse(request, Reason.INVITATION_OTHER_PERSON, user_id=invitation.user_id, **context)
        user, via = (
            (invitation.user, "invitation") if invitation else (_by_company_email(data), "company email")
        )
        if user is None:
            refuse(request, Reason.UNKNOWN_USER, **context)
        _check_staff(request, user, context)
        if SocialAccount.objects.filter(user=user, provider=sociallogin.account.provider).exists():
            refuse(request, Reason.ALREADY_LINKED, user_id=user.pk, **context)
        with transaction.atomic():
            if invitation and not FeishuInvitation.objects.usable().filter(pk=invitation.pk).update(
                used_at=timezone.now()
            ):
                refuse(request, Reason.INVITATION_INVALID, user_id=user.pk, **context)  # used meanwhile
            sociallogin.connect(request, user)
        log.info("feishu identity %s linked to user %s (%s)", pseudonym(identity), user.pk, via)

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        # The type only: an exception's text can quote Feishu's answer (names, emails).
        note_refusal(
            Reason.FEISHU_ERROR, detail=f"{error or '-'} {type(exception).__name__ if exception else '-'}"
        )
        raise ImmediateHttpResponse(refusal_page(request, Reason.FEISHU_ERROR, status=400))


def _take_invitation(request) -> FeishuInvitation | None:
    pk = request.session.pop(INVITATION_SESSION_KEY, None)
    if pk is None:
        return None
    invitation = FeishuInvitation.objects.usable().select_related("user").filter(pk=pk).first()
    if invitation is None:
        refuse(request, Reason.INVITATION_INVALID)
    return invitation


def _check_staff(request, user, context) -> None:
    if not user.is_active:
        refuse(request, Reason.INACTIVE, user_id=user.pk, **context)
    if not user.is_staff:
        refuse(request, Reason.NOT_STAFF, user_id=user.pk, **context)


def _by_company_email(data: dict):
    """The staff user whose email is this Feishu user's company mailbox (``enterprise_email``,
    the address the company's Feishu Mail gives; ``email`` is typed in by anyone and never
    trusted). None unless exactly one user has it."""
    email = data.get("enterprise_email")
    if not isinstance(email, str) or "@" not in email:
        return None
    users = list(get_user_model().objects.filter(email__iexact=email.strip())[:2])
    return users[0] if len(users) == 1 else None
