"""The pages hireops adds around allauth's: an invitation's landing page, an enrolment link, and
the guided enrolment of a second factor."""

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n

from hireops.ops import metrics

from . import enrolment, identities, second_factor
from .adapters import INVITATION_SESSION_KEY, AccountAdapter
from .models import FeishuInvitation, digest
from .refusals import Reason, note_refusal, refusal_page


def invitation(request, token: str):
    """An invitation link: signing in with Feishu from here links the Feishu account it names
    to the invited user (once, before it expires). The token is in the path, so a refusal is
    logged by its reason only, never with the path as Django's request log would."""
    found = (
        FeishuInvitation.objects.usable().select_related("user").filter(token_digest=digest(token)).first()
    )
    if found is None:
        note_refusal(Reason.INVITATION_INVALID)
        return refusal_page(request, Reason.INVITATION_INVALID, status=404, secret_path=True)
    request.session[INVITATION_SESSION_KEY] = found.pk
    return render(request, "signin/invitation.html", {"invitation": found})


def enrolment_link(request, token: str):
    """An enrolment link: opened by the user it was issued for, signed in (a visitor signs in
    first and comes back here), it lets this session set up a first second factor. Opened by
    anyone else it is refused and stays usable. The token is in the path: refusals are logged
    by their reason only."""
    link = enrolment.usable_link(token)
    if link is None:
        note_refusal(Reason.ENROLMENT_LINK_INVALID, user_id=request.user.pk)
        return refusal_page(request, Reason.ENROLMENT_LINK_INVALID, status=404, secret_path=True)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        enrolment.open_link(request, link)
    except enrolment.LinkRefused as refused:
        note_refusal(refused.reason, user_id=request.user.pk)
        status = 404 if refused.reason is Reason.ENROLMENT_LINK_INVALID else 403
        return refusal_page(request, refused.reason, status=status, secret_path=True)
    except enrolment.AlreadyEnrolled:
        messages.info(
            request, _("You have a second factor already: this link was not needed, and is not used.")
        )
        return redirect("admin:index")
    metrics.signins.labels("enrolment_link", "used").inc()
    minutes = settings.ENROLMENT_PROOF_MINUTES
    messages.success(
        request,
        ngettext(
            "Your enrolment link is accepted: set up your second factor within %(minutes)d minute.",
            "Your enrolment link is accepted: set up your second factor within %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )
    return redirect("signin_enrol")


def _next(request) -> str:
    return enrolment.safe_next(request) or reverse("admin:index")


def _feishu_enabled() -> bool:
    return bool(settings.FEISHU_LOGIN_TENANTS and settings.FEISHU_LOGIN_APP_ID)


@login_required
def enrol(request):
    """Why a second factor is needed, and the ways to add one (allauth's pages). A first factor
    needs a proof beyond the password (hireops.signin.enrolment): until this session has one,
    the guide explains the two ways to get it and offers no page that would show a secret."""
    target = _next(request)
    if second_factor.enrolled(request.user):
        return redirect(target)
    proof = enrolment.proof(request)
    feishu = _feishu_enabled()
    return render(
        request,
        "signin/enrol.html",
        {
            "next": target,
            "proof": proof,
            "required": second_factor.needs_second_factor(request.user),
            "feishu": feishu,
            "feishu_linked": feishu
            and SocialAccount.objects.filter(user=request.user, provider="feishu").exists(),
            "minutes": settings.ENROLMENT_PROOF_MINUTES,
            "link_hours": settings.ENROLMENT_LINK_HOURS,
            "here": f"{reverse('signin_enrol')}?{urlencode({'next': target})}",
        },
    )


def reauthenticate(request):
    """allauth's "confirm with your password" page, replaced: a password confirms nothing here.
    A user with a factor confirms with it; a user without one needs the enrolment's proof."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    target = enrolment.safe_next(request)
    query = f"?{urlencode({'next': target})}" if target else ""
    if second_factor.enrolled(user):  # the factors it has: the app's code, or a security key
        return redirect(AccountAdapter(request).get_reauthentication_methods(user)[0]["url"] + query)
    return redirect(reverse("signin_enrol") + query)


def set_language(request):
    """Django's language switch; for a signed-in user also the language the app's messages to
    them in Feishu are written in from now on (``identities``)."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        identities.remember_language(request.user, request.POST.get("language", ""))
    return response
