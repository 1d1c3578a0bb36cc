"""Nothing opens for a user who must use a second factor until this session proved one.

Decided per resolved URL name against a short allowlist, on every URL the project and its
libraries mount (now and once more are added): a page nobody listed here is closed to such a
session. Not enrolled yet → the guided enrolment; enrolled → the second-factor step (a code
from the app, a recovery code, or a security key), then back to the page asked for. Signing
out stays open. Checked on every request, so the requirement follows the permission at once:
a user given the withdrawal permission mid-session is stopped at the next page.

The pages that add a factor do not even open (no secret shown, no security key's challenge)
for a user with none whose session lacks the enrolment's proof (hireops.signin.enrolment),
whatever their role: they get the guide, which says how to get it.
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse

from . import enrolment, second_factor
from .adapters import AccountAdapter

# Signing out, and what every page of the steps needs (the language switcher).
ALWAYS = frozenset({"admin:logout", "account_logout", "set_language"})
# Enrolled: proving the factor (allauth's step: a code or recovery code, or a security key).
STEP = frozenset({"mfa_reauthenticate", "mfa_reauthenticate_webauthn"})
# Not enrolled: the guide, adding a first factor, and the proof beyond the password that
# adding it needs (Feishu's round trip, or an administrator's enrolment link). Never the
# password again: it proves nothing a thief would not have.
ENROLMENT = frozenset(
    {
        "signin_enrol",
        "signin_enrolment_link",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "feishu_login",
        "feishu_callback",
    }
)
# The pages that add a factor: a first one needs the enrolment's proof.
ADDING = frozenset({"mfa_activate_totp", "mfa_add_webauthn"})


def allowed_before_the_second_factor(enrolled: bool) -> frozenset[str]:
    return ALWAYS | (STEP if enrolled else ENROLMENT)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # each page asks anonymous visitors to sign in as it always did
        name = request.resolver_match.view_name
        if name in ADDING and not second_factor.enrolled(user) and enrolment.proof(request) is None:
            return HttpResponseRedirect(enrolment.guide_url(enrolment.safe_next(request)))
        if not second_factor.needs_second_factor(user) or second_factor.proven(request):
            return None
        enrolled = second_factor.enrolled(user)
        if name in allowed_before_the_second_factor(enrolled):
            return None
        if enrolled:  # the factors it has: the app's code (or a recovery code), or a security key
            target = AccountAdapter(request).get_reauthentication_methods(user)[0]["url"]
        else:
            target = reverse("signin_enrol")
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
