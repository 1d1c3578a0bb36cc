"""The inbox's status checks (hireops.ops.status): events waiting too long, events that failed
for good, refused deliveries, a store app's app ticket, and the long-connection listeners."""

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.admin.dashboard import capped_count, changelist_url
from hireops.ops import pressure, status
from hireops.ops.heartbeat import STALE
from hireops.ops.link_state import CONNECTED
from hireops.ops.models import ProcessHeartbeat, ProcessKind
from hireops.tenants.mode import store_app

from . import selectors
from .dashboard import ticket_missing
from .models import EventStatus, FeishuEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# An event normally waits well under a second; this long means workers are down or behind.
PENDING_TOO_LONG = timedelta(minutes=5)
REFUSALS_RECENT = timedelta(minutes=15)


def _age(moment) -> "StrOrPromise":
    minutes = int((timezone.now() - moment).total_seconds() // 60)
    if minutes < 1:
        return _("under a minute")
    return _("%(minutes)d min") % {"minutes": minutes}


@status.check
def inbox():
    oldest = (
        FeishuEvent.objects.filter(status=EventStatus.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    late = oldest is not None and timezone.now() - oldest > PENDING_TOO_LONG
    yield status.Finding(
        "events.pending",
        _("Oldest event waiting to be processed"),
        _age(oldest) if oldest else _("none waiting"),
        not late,
        changelist_url(FeishuEvent, status__exact=EventStatus.PENDING),
    )
    # Failed after the last retry: no next attempt is planned; a person must look.
    given_up = capped_count(FeishuEvent.objects.filter(status=EventStatus.FAILED, next_attempt_at=None))
    yield status.Finding(
        "events.failed",
        _("Events failed after their last retry"),
        given_up,
        given_up == 0,
        changelist_url(FeishuEvent, status__exact=EventStatus.FAILED),
    )
    refused_at = pressure.inbox_refused_at()
    recent = refused_at is not None and time.time() - refused_at < REFUSALS_RECENT.total_seconds()
    yield status.Finding(
        "events.refused",
        _("Deliveries the ingest server could not store (15 min)"),
        _("yes") if recent else _("none"),
        not recent,
    )


@status.check
def app_ticket():
    if not store_app():
        return
    last = selectors.last_app_ticket().values_list("received_at", flat=True).first()
    missing = ticket_missing(last)
    yield status.Finding(
        "events.app_ticket",
        _("Last app ticket from Feishu (pushed hourly)"),
        _age(last) if last else _("none yet"),
        not missing,
        changelist_url(FeishuEvent, event_type="app_ticket"),
    )


@status.check
def long_connection():
    """With the long connection chosen, a listener must run and hold its connection: one
    disconnected past FEISHU_LISTEN_ALERT_AFTER needs a person (Feishu keeps retrying each
    event for about 7 hours, so nothing is lost yet, but nothing arrives either)."""
    if settings.FEISHU_EVENT_TRANSPORT not in ("long_connection", "both"):
        return
    now = timezone.now()
    alive = list(
        ProcessHeartbeat.objects.filter(kind=ProcessKind.LISTENER, seen_at__gte=now - STALE).order_by("name")
    )
    url = changelist_url(ProcessHeartbeat, kind__exact=ProcessKind.LISTENER)
    yield status.Finding(
        "events.listener.alive", _("Long-connection listeners alive"), len(alive), bool(alive), url
    )
    if not alive:
        return
    grace = timedelta(seconds=settings.FEISHU_LISTEN_ALERT_AFTER)
    down = [p for p in alive if p.state != CONNECTED and p.state_since and now - p.state_since > grace]
    connected = sum(p.state == CONNECTED for p in alive)
    why = f" ({down[0].state_text}, {_age(down[0].state_since)})" if down else ""
    yield status.Finding(
        "events.listener.connected",
        _("Long-connection listeners connected to Feishu"),
        f"{connected}/{len(alive)}{why}",
        not down,
        url,
    )
