"""What a key could have heard, for a partner catching up (``GET /api/v1/events``): every event
of a type its scopes hear, of its tenants, kept ``WEBHOOK_KEEP_DAYS``, with the data its webhook
carries (``events.data_for``) and the same id (``msg_…``), so a receiver that deduplicates by
that id mixes both paths. A partner that was down longer than the retries lists what it missed
instead of asking anyone to resend it.

An event is kept when an endpoint heard it or a usable key could list it
(``events.audience``): a type nobody may hear of is never written."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from hireops.api.models import ApiKey

from . import events
from .models import WebhookEvent


def heard_types(key: ApiKey) -> dict[str, events.EventType]:
    """The types ``key``'s scopes hear (a ping is an endpoint's own, never listed)."""
    return {
        name: t
        for name, t in events.types().items()
        if name != events.PING and (t.scope is None or t.scope in key.scopes)
    }


def kept_since() -> datetime:
    days: int = settings.WEBHOOK_KEEP_DAYS
    return timezone.now() - timedelta(days=days)


def for_key(
    key: ApiKey, *, type_name: str | None = None, created_after: datetime | None = None
) -> QuerySet[WebhookEvent]:
    """The events ``key`` could have heard (``type_name``: of that type only, one it hears)."""
    names = [type_name] if type_name else list(heard_types(key))
    rows = WebhookEvent.objects.filter(type__in=names, created_at__gte=kept_since())
    if created_after is not None:
        rows = rows.filter(created_at__gt=created_after)
    if key.tenant_keys:
        # Its tenants' events, and an object spanning tenants (a payout run) paying one of them.
        mine = Q(tenant_key__in=key.tenant_keys)
        for tenant in key.tenant_keys:
            mine |= Q(spans__contains=f",{tenant},")
        rows = rows.filter(mine)
    return rows


def as_read_by(event: WebhookEvent, key: ApiKey) -> dict[str, Any]:
    """The event as the key's webhook would carry it: id, type, timestamp, data."""
    return {
        "id": event.webhook_id,
        "type": event.type,
        "timestamp": events.timestamp(event),
        "data": events.data_for(event, key.scopes, limited=bool(key.tenant_keys)),
    }
