"""Alerts: staff are told once per incident, by e-mail and a Feishu group bot.

An incident opens when a status check (hireops.ops.status) starts needing a person and closes
when it is fine again; staff are told when it opens, never again while it stays open, and
again only for a new incident. Telling is retried on the next run until every configured
channel has taken it (a channel that took it is not sent it twice).

Runs every ``EVERY`` seconds from a worker's heartbeat thread, one worker at a time (a cache
lock), not from beat: a beat that stopped is itself something to alert on. With no worker
alive nothing can tell anyone: that is what ``manage.py hireops_status`` from cron or the
orchestrator's health checks are for (docs/deployment.md, "Watching it run").
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation

from hireops.core.display import local_time
from hireops.core.messages import Message, in_each_language

from . import channels, report
from .models import AlertIncident
from .status import Finding

log = logging.getLogger(__name__)

EVERY = 60  # seconds between runs, whichever worker runs them
MAX_ATTEMPTS = 50  # telling staff is retried each run; past this the incident only shows in the admin


def due() -> bool:
    """True for one caller per ``EVERY`` seconds across every process."""
    return cache.add("ops:alerts:ran", 1, EVERY - 5)


def alerts_run() -> int:
    """Open and close incidents from the status, then tell staff of new ones. Returns how
    many incidents are open."""
    with translation.override(settings.LANGUAGE_CODE):
        found = report.build()
        if not found.readable:
            return -1  # no database: nothing to record; the orchestrator's checks see it
        bad = {f.key: f for f in found.needing_a_person}
        _record(bad)
        for incident in AlertIncident.objects.filter(resolved_at=None, notified_at=None):
            _tell(incident)
    return len(bad)


def _record(bad: dict[str, Finding]) -> None:
    now = timezone.now()
    open_ = {i.key: i for i in AlertIncident.objects.filter(resolved_at=None)}
    for key, incident in open_.items():
        if key not in bad:
            AlertIncident.objects.filter(pk=incident.pk).update(resolved_at=now)
        elif str(bad[key].value) != incident.value:
            AlertIncident.objects.filter(pk=incident.pk).update(value=in_each_language(bad[key].value))
    for key, finding in bad.items():
        if key in open_:
            continue
        try:
            with transaction.atomic():
                AlertIncident.objects.create(
                    key=key,
                    title=in_each_language(finding.title),
                    value=in_each_language(finding.value),
                    url=finding.url,
                )
        except IntegrityError:  # another run opened it meanwhile: one incident per check
            pass


def _tell(incident: AlertIncident) -> None:
    if not channels.configured():  # nobody to tell: say so on the row, spend no attempt
        AlertIncident.objects.filter(pk=incident.pk).update(notify_error=Message(channels.NO_CHANNEL))
        return
    # Claim this attempt: two runs never tell staff of the same incident at once.
    claimed = AlertIncident.objects.filter(
        pk=incident.pk, notified_at=None, notify_attempts=incident.notify_attempts
    ).update(notify_attempts=F("notify_attempts") + 1)
    if not claimed or incident.notify_attempts >= MAX_ATTEMPTS:
        return
    told = {c for c in incident.told.split(",") if c}
    left = [c for c in channels.configured() if c not in told]
    results = channels.send_alert(_alert(incident), channels=left) if left else []
    told |= {r.channel for r in results if r.ok}
    errors = channels.failures(results)
    done = not errors
    AlertIncident.objects.filter(pk=incident.pk).update(
        told=",".join(sorted(told)), notify_error=errors, notified_at=timezone.now() if done else None
    )
    if errors:
        log.warning("alert %s not delivered everywhere: %s", incident.key, errors)


def _alert(incident: AlertIncident) -> channels.Alert:
    from .admin import status_url

    link = settings.ADMIN_BASE_URL.rstrip("/") + (incident.url or status_url())
    return channels.Alert(
        title=f"{incident.title}: {incident.value}",
        lines=[
            f"{incident.title}: {incident.value}",
            translation.gettext("Since %(time)s") % {"time": local_time(incident.opened_at)},
        ],
        url=link,
        severity="critical",
        key=incident.key,
    )
