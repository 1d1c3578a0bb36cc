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
