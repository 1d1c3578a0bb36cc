from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsMadeConfig(AppConfig):
    """The outbound engine's record of the calls it made (``hireops.calls_made.record``): the
    raw rows of the calls' trends."""

    name = "hireops.calls_made"
    label = "calls_made"
    verbose_name = _("Calls made")

    def ready(self):
        from django.utils.translation import gettext_noop

        from hireops.core.schedules.registry import register_schedule

        register_schedule(
            gettext_noop("Outbound calls: prune the old record of calls made"),
            task="calls_made.prune",
            crontab="45 3 * * *",
        )
