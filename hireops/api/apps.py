from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "hireops.api"
    label = "api"
    verbose_name = _("Partner API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from hireops.signin.second_factor import require_second_factor

        # A key acts for a partner's system without a person: making one is as sensitive as
        # granting a role (a fresh second factor, hireops.api.admin).
        require_second_factor("api.add_apikey", "api.change_apikey")
