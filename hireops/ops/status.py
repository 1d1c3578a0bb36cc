"""Status checks: what needs a person, read by ``manage.py hireops_status``, the admin's
status page and the alerts.

Each app says what in it needs a person in its ``health.py`` (found like admin.py is)::

    from hireops.ops import status

    @status.check
    def exams():
        yield status.Finding("exams.unscored", _("Exams waiting for a score"), n, ok=n == 0, url=…)

Calls to Feishu need no check of their own: every kind the outbound engine sends is watched
from its registry (``hireops.ops.health.calls_to_feishu``).

A finding's ``key`` names the condition for good (alerts open one incident per key); ``ok``
False means a person should look. A check that itself fails (its database is down, say) is
a finding that is not ok. Findings carry counts and ages, never personal data: they go to
e-mail and group chats.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.utils.functional import lazy
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from hireops.core import discovery

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

log = logging.getLogger(__name__)
capfirst_lazy = lazy(capfirst, str)


@dataclass(frozen=True)
class Finding:
    key: str
    title: "StrOrPromise"  # may be lazy: rendered in the reader's language
    value: object = ""
    ok: bool = True
    url: str = ""  # an admin path, e.g. "/admin/events/feishuevent/?status__exact=failed"


_checks: list[Callable[[], Iterable[Finding]]] = []


_Check = TypeVar("_Check", bound=Callable[[], Iterable[Finding]])


def check(fn: _Check) -> _Check:
    """Register a status check (used in ``<app>/health.py``)."""
    _checks.append(fn)
    return fn


def checks() -> list:
    discovery.require("health")  # every app's health.py (hireops.ops.apps)
    return list(_checks)


def findings() -> list[Finding]:
    found = []
    for fn in checks():
        name = f"{fn.__module__}.{fn.__name__}"
        try:
            found.extend(fn())
        except Exception as exc:
            log.warning("status check %s failed: %s", name, type(exc).__name__)
            title = format_lazy(_("Status check {name} could not run"), name=name)
            found.append(Finding(f"check.{name}", title, type(exc).__name__, False))
    return found


def needing_a_person(found: list[Finding]) -> list[Finding]:
    return [f for f in found if not f.ok]
