from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "hireops.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        autodiscover_modules("bulk")  # each app's bulk.py registers its operations
