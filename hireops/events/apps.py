from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "hireops.events"
    label = "events"
    verbose_name = _("Feishu events")

    def ready(self):
        from hireops.core import roles

        from . import checks  # noqa: F401  (registers the system checks)
        from .registry import register_event

        # The platform's own event: store apps' app_ticket, for the token flow.
        register_event(
            "app_ticket", handler="hireops.events.handlers.app_ticket", visible_with="events.view_feishuevent"
        )
        roles.audit("events")
