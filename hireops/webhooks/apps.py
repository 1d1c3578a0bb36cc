from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "hireops.webhooks"
    label = "webhooks"
    verbose_name = _("Partner webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_noop

        from hireops.api.keys import retired
        from hireops.core.auth import roles
        from hireops.core.schedules.registry import register_schedule
        from hireops.signin.second_factor import require_second_factor

        from . import trend  # noqa: F401  (the deliveries' trend and its charts)

        # Auditors see where events go and how their deliveries fared (never a secret).
        roles.audit("webhooks")
        # An endpoint receives tenants' data: adding or pointing one elsewhere is as sensitive
        # as making an API key.
        require_second_factor("webhooks.add_webhookendpoint", "webhooks.change_webhookendpoint")

        from . import retire

        retired.connect(retire.on_key_retired, dispatch_uid="webhooks.retire")

        from django.utils.module_loading import autodiscover_modules

        from hireops.core import discovery

        # The event types: every app's webhook_events.py, imported on first use (hireops.webhooks.events).
        discovery.provide("webhook_events", lambda: autodiscover_modules("webhook_events"))

        register_schedule(
            gettext_noop("Partner webhooks: send the deliveries that are due"),
            task="webhooks.send_due",
            every=(10, "seconds"),
        )
        register_schedule(
            gettext_noop("Partner webhooks: forget events past their time"),
            task="webhooks.prune",
            every=(1, "hours"),
        )
