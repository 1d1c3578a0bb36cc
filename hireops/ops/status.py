"""Status checks: what needs a person, read by ``manage.py hireops_status``, the admin's
status page and the alerts.

Each app says what in it needs a person in its ``health.py`` (found like admin.py is)::

    from hireops.ops import status

    @status.check
    def withdrawals():
        yield status.Finding("withdrawals.failed", _("Withdrawals failed (24 h)"), n, ok=n == 0, url=…)

A finding's ``key`` names the condition for good (alerts open one incident per key); ``ok``
False means a person should look. A check that itself fails (its database is down, say) is
a finding that is not ok. Findings carry counts and ages, never personal data: they go to
e-mail and group chats.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.module_loading import autodiscover_modules
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)
capfirst_lazy = lazy(capfirst, str)


@dataclass(frozen=True)
class Finding:
    key: str
    title: str  # may be lazy: rendered in the reader's language
    value: object = ""
    ok: bool = True
    url: str = ""  # an admin path, e.g. "/admin/events/feishuevent/?status__exact=failed"


_checks: list[Callable[[], Iterable[Finding]]] = []
_discovered = False


def check(fn):
    """Register a status check (used in ``<app>/health.py``)."""
    _checks.append(fn)
    return fn


def checks() -> list:
    global _discovered
    if not _discovered:
        autodiscover_modules("health")
        _discovered = True
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


STUCK_AFTER = timedelta(minutes=30)
FAILED_WITHIN = timedelta(hours=24)


def feishu_calls(key: str, model) -> Iterable[Finding]:
    """The two findings of any ``FeishuCall`` model: calls still unanswered after
    ``STUCK_AFTER`` (retries are minutes apart: this long means a person should look) and
    calls that failed within ``FAILED_WITHIN``."""
    from hireops.core.dashboard import capped_count, changelist_url
    from hireops.core.models import CallStatus

    now = timezone.now()
    what = model._meta.verbose_name_plural
    stuck = capped_count(model.objects.filter(status=CallStatus.QUEUED, requested_at__lt=now - STUCK_AFTER))
    recent = now - FAILED_WITHIN
    failed = capped_count(model.objects.filter(status=CallStatus.FAILED, finished_at__gte=recent))
    yield Finding(
        f"{key}.stuck",
        format_lazy(_("{what}: waiting for Feishu for over 30 minutes"), what=capfirst_lazy(what)),
        stuck,
        stuck == 0,
        changelist_url(model, status__exact=CallStatus.QUEUED),
    )
    yield Finding(
        f"{key}.failed",
        format_lazy(_("{what}: failed in the last 24 hours"), what=capfirst_lazy(what)),
        failed,
        failed == 0,
        changelist_url(model, status__exact=CallStatus.FAILED),
    )
