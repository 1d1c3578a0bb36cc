from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "hireops.events"
    label = "events"
    verbose_name = _("Feishu events")

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
