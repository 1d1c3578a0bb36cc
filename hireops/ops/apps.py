from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running hireops: health and readiness, the status of its processes, metrics, alerts."""

    name = "hireops.ops"
    label = "ops"
    verbose_name = _("Operations")
