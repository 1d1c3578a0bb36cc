from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "hireops.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        from django.utils.translation import gettext_noop

        from hireops.core.schedules.registry import register_schedule
        from hireops.ops.collectors import register_gauges

        from .gauges import remaining

        register_gauges(remaining)

        from django.utils.module_loading import autodiscover_modules

        from hireops.core import discovery

        # The bulk operations: every app's bulk.py, imported on first use (hireops.jobs.operations).
        discovery.provide("bulk", lambda: autodiscover_modules("bulk"))

        # The platform's schedule: superusers manage it (no managed_with).
        register_schedule(
            gettext_noop("Background jobs: resume the ones that stopped moving"),
            task="jobs.resume",
            every=(1, "minutes"),
        )
        register_schedule(
            gettext_noop("Exports: remove the files past their time"),
            task="jobs.expire_exports",
            every=(15, "minutes"),
        )
