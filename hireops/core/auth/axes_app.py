"""django-axes (login protection) as staff see it: a translated title and Chinese screens.

django-axes ships no Chinese catalogue. Django looks a message up in every catalogue,
ours (LOCALE_PATHS) first, so axes' own English strings, marked here for makemessages,
are translated in locale/zh_Hans like ours. Keep the list in step with axes' models and
admin when upgrading it. (A module of its own: a second AppConfig in hireops/core/apps.py
would stop Django from picking CoreConfig for "hireops.core".)
"""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy, gettext_noop


class AxesConfig(AxesAppConfig):
    verbose_name = gettext_lazy("Login protection")


AXES_STRINGS = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
)
