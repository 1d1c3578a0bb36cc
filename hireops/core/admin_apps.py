"""django.contrib.admin's app, with hireops' admin site as ``admin.site``
(``hireops.core.admin_site``). Named in INSTALLED_APPS instead of "django.contrib.admin"."""

from django.contrib.admin import apps


class AdminConfig(apps.AdminConfig):
    default_site = "hireops.core.admin_site.AdminSite"


class SimpleAdminConfig(apps.SimpleAdminConfig):  # no autodiscovery: the ingest server
    default_site = "hireops.core.admin_site.AdminSite"
