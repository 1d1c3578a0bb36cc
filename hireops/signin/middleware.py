"""No admin page opens for a user who must use a second factor until this session proved one.

Checked on every admin request, so the requirement follows the permission at once: a user
given the withdrawal permission mid-session is stopped at the next page. Not enrolled yet →
the guided enrolment; enrolled → allauth's second-factor step (a code from the app, a
recovery code, or a security key), then back to the page asked for. Signing out stays open.
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from . import second_factor


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_stop(request):
            target = "signin_enrol" if not second_factor.enrolled(request.user) else "mfa_reauthenticate"
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return HttpResponseRedirect(reverse(target) + (f"?{query}" if query else ""))
        return self.get_response(request)

    @staticmethod
    def _must_stop(request) -> bool:
        # The path first: other requests (webhook, health, report links) never load a session.
        try:
            admin_root, logout = reverse("admin:index"), reverse("admin:logout")
        except NoReverseMatch:  # a URLconf without the admin: nothing to guard
            return False
        path = request.path_info
        if not path.startswith(admin_root) or path == logout:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return second_factor.needs_second_factor(user) and not second_factor.proven(request)
