"""The pages hireops adds around allauth's: an invitation's landing page and the guided
enrolment of a second factor."""

from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from . import second_factor
from .adapters import INVITATION_SESSION_KEY
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


def _next(request) -> str:
    target = request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index")


@login_required
def enrol(request):
    """Why a second factor is needed, and the ways to add one (allauth's pages)."""
    if second_factor.enrolled(request.user) or not second_factor.needs_second_factor(request.user):
        return redirect(_next(request))
    target = _next(request)
    # allauth lets a factor be added only within minutes of a sign-in (it would ask a password
    # user for the password again). A Feishu user past that window confirms with Feishu instead.
    feishu_again = not did_recently_reauthenticate(request) and (
        SocialAccount.objects.filter(user=request.user, provider="feishu").exists()
    )
    return render(
        request,
        "signin/enrol.html",
        {
            "next": target,
            "feishu_again": feishu_again,
            "here": f"{reverse('signin_enrol')}?{urlencode({'next': target})}",
        },
    )
