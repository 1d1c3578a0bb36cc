"""How the libraries' rows are named on pages, in the reader's language.

The admin names a row by ``str(row)`` in a page's title, its breadcrumbs, its history and delete
pages. django-axes names its records in English sentences with a UTC timestamp
("Attempted Access: 2026-11-23 20:13:50.891970+00:00"); django-celery-beat names a schedule by
its stored name, which for ours is a message id (hireops.core.schedules.registry); Django names a group
by its stored name, which for the roles is a message id too (hireops.core.auth.roles). ``name_rows``
(CoreConfig.ready) gives these models a ``__str__`` in the active language and local time; a
name that is no message id (a group an administrator added) reads as it is stored.
"""

from django.utils import formats, timezone
from django.utils.translation import gettext


def _when(moment) -> str:
    return formats.localize(timezone.localtime(moment)) if moment else "—"


def _failure(row) -> str:
    text = gettext("Failed sign-in as %(username)s from %(ip)s, %(time)s")
    text %= {"username": row.username, "ip": row.ip_address, "time": _when(row.attempt_time)}
    return text + (gettext(" (locked out)") if row.locked_out else "")


def _attempts(row) -> str:
    return gettext("Failed sign-ins as %(username)s from %(ip)s") % {
        "username": row.username,
        "ip": row.ip_address,
    }


def _sign_in(row) -> str:
    return gettext("Sign-in as %(username)s, %(time)s") % {
        "username": row.username,
        "time": _when(row.attempt_time),
    }


def _schedule(row) -> str:
    return gettext(row.name)  # beat's own "<name>: <timing>" repeats the page's timing field


def _group(row) -> str:
    return gettext(row.name)


def name_rows() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django_celery_beat.models import PeriodicTask

    AccessFailureLog.__str__ = _failure
    AccessAttempt.__str__ = _attempts
    AccessLog.__str__ = _sign_in
    PeriodicTask.__str__ = _schedule
    Group.__str__ = _group  # type: ignore[method-assign]  # named in the reader's language
