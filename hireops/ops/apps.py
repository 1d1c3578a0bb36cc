from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running hireops: health and readiness, the status of its processes, metrics, alerts."""

    name = "hireops.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from hireops.core.auth import roles

        from . import (  # noqa: F401  (they connect to Celery's signals)
            feishu_metrics,
            heartbeat,
            task_metrics,
        )

        feishu_metrics.connect()

        from django.core import checks

        from hireops.outbound.checks import attempts_end_within_their_lease, every_kind_is_swept

        checks.register(every_kind_is_swept)
        checks.register(attempts_end_within_their_lease)

        from django.utils.module_loading import autodiscover_modules

        from hireops.core import discovery
        from hireops.feishu_calls import trend  # noqa: F401  (the calls to Feishu: a trend, its charts)

        # The status checks: every app's health.py, imported on first use (hireops.ops.status).
        discovery.provide("health", lambda: autodiscover_modules("health"))

        # The status page and incidents: the Auditor sees them (view_status is a view_
        # permission); anyone else is given ops.view_status by an admin.
        roles.audit("ops")
