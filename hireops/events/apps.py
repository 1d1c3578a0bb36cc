from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "hireops.events"
    label = "events"
    verbose_name = _("Feishu events")

    def ready(self):
        from django.utils.translation import gettext_noop

        from hireops.core.auth import roles
        from hireops.core.schedules.registry import register_schedule
        from hireops.ops.collectors import register_gauges

        from . import (
            checks,  # noqa: F401  (registers the system checks)
            gauges,
            trend,  # noqa: F401  (registers the events' trend)
        )
        from .registry import register_event

        register_gauges(gauges.backlog)

        # The platform's own event: store apps' app_ticket, for the token flow.
        register_event(
            "app_ticket", handler="hireops.events.handlers.app_ticket", visible_with="events.view_feishuevent"
        )
        # Store apps' lifecycle events (schema 1.0; docs/feishu-api-2.md §1.1), handled by
        # hireops.tenants (below events: it cannot register them itself). Self-built apps never
        # receive them: their one tenant is recorded from its events' tenant_key.
        for event_type in ("app_open", "app_status_change", "app_uninstalled"):
            register_event(
                event_type,
                handler="hireops.tenants.handlers.lifecycle",
                visible_with="tenants.view_tenant",
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
