"""hireops' sign-in pages, and the part of allauth's it uses.

allauth mounts sign-up, password reset and change, email management, login by code and the
connecting of other accounts to a signed-in user: hireops uses none of them (staff users are
made by administrators, who also reset passwords; each user changes their password on the
admin's own page; Feishu identities are linked by invitation or company mailbox). Unused
pages are attack surface (connecting another Feishu identity to a signed-in user is an
account takeover), so only the pages named in ``ALLAUTH_PAGES`` are mounted: a page a new
allauth release adds stays unmounted until it is named here.
"""

import allauth.urls
from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from . import views

ALLAUTH_PAGES = frozenset(
    {
        "account_login",  # shadowed by the redirect below; allauth's code reverses the name
        "account_logout",
        "account_inactive",  # where allauth sends a deactivated user
        "account_reauthenticate",  # shadowed below; allauth's code reverses the name
        "feishu_login",
        "feishu_callback",
        "socialaccount_login_cancelled",
        "socialaccount_login_error",
        # Second factors: the steps, the overview, and managing each kind.
        "mfa_index",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_list_webauthn",
        "mfa_add_webauthn",
        "mfa_reauthenticate_webauthn",
        "mfa_edit_webauthn",
        "mfa_remove_webauthn",
    }
)


def _only(patterns, names) -> list:
    """``patterns`` without the pages not named (an include keeps what is left of it)."""
    kept: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = _only(pattern.url_patterns, names)
            if inner:
                kept.append(
                    URLResolver(
                        pattern.pattern, inner, pattern.default_kwargs, pattern.app_name, pattern.namespace
                    )
                )
        elif isinstance(pattern, URLPattern) and pattern.name in names:
            kept.append(pattern)
    return kept


urlpatterns = [
    # The admin's login page is the one sign-in page (password, django-axes, and the Feishu
    # button); allauth's own password page would bypass both rules.
    path("login/", RedirectView.as_view(pattern_name="admin:login", query_string=True)),
    path("feishu/invitation/<secret:token>/", views.invitation, name="signin_invitation"),
    path("second-factor/", views.enrol, name="signin_enrol"),
    path("second-factor/link/<secret:token>/", views.enrolment_link, name="signin_enrolment_link"),
    # allauth's password confirmation, which counted a password typed minutes ago as proof
    # enough to add a first factor or to change one: a password proves neither here.
    path("reauthenticate/", views.reauthenticate, name="account_reauthenticate"),
    *_only(allauth.urls.urlpatterns, ALLAUTH_PAGES),
]
