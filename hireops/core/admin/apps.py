"""django.contrib.admin's app, with hireops' admin site as ``admin.site``
(``hireops.core.admin.site``). Named in INSTALLED_APPS instead of "django.contrib.admin"."""

from django.contrib.admin import apps


class AdminConfig(apps.AdminConfig):
    default_site = "hireops.core.admin.site.AdminSite"

    def ready(self):
        super().ready()  # every app's admin.py
        # The platform's own admins (the change history, the schedules, the libraries' admins
        # under the project's rules), registered once the apps' are. Not on importing the
        # package hireops.core.admin: INSTALLED_APPS may name a module of it, imported before
        # any model can be.
        from . import history, libraries, schedules  # noqa: F401  (registers them)


class SimpleAdminConfig(apps.SimpleAdminConfig):  # no autodiscovery: the ingest server
    default_site = "hireops.core.admin.site.AdminSite"
