from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    name = "hireops.signin"
    label = "signin"
    verbose_name = _("Sign-in")

    def ready(self):
        from . import changes, checks, second_factor, signals  # noqa: F401  (registrations)

        # Changing who belongs to which role is changing what they may do.
        second_factor.require_second_factor("auth.change_user", "auth.change_group")
        name_authenticators()


def name_authenticators():
    """allauth's Authenticator declares no names, so Django shows "authenticator" in English
    (the permissions of users and groups, the change history; its own admin is not offered,
    see admin.py). Names set on ``_meta``, not as Meta options: no migration of allauth's app."""
    from allauth.mfa.models import Authenticator

    Authenticator._meta.verbose_name = _("second factor")
    Authenticator._meta.verbose_name_plural = _("second factors")
