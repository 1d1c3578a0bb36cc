from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "hireops.events"
    label = "events"
    verbose_name = _("Feishu events")

    def ready(self):
        from django.utils.translation import gettext_noop

        from hireops.core import roles
        from hireops.core.schedules import register_schedule

        from . import checks  # noqa: F401  (registers the system checks)
        from .registry import register_event

        # The platform's own event: store apps' app_ticket, for the token flow.
        register_event(
            "app_ticket", handler="hireops.events.handlers.app_ticket", visible_with="events.view_feishuevent"
        )
        roles.audit("events")
        # The platform's schedules: superusers manage them (no managed_with).
        register_schedule(
            gettext_noop("Feishu events: queue stored but unprocessed events"),
            task="events.sweep",
            every=(30, "seconds"),
        )
        register_schedule(
            gettext_noop("Feishu events: prune old processed events"),
            task="events.prune",
            crontab="15 3 * * *",
        )
