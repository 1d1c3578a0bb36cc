"""The event types partners may hear, and ``emit``: the outbox.

An app declares its types in ``<app>/webhook_events.py`` (found the first time an event is
emitted or listed, as ``tasks`` modules are):

    declare(EventType(
        "order.created", _("Feishu Hire placed a background check or an exam"),
        scope="orders:read", personal_scope="orders:personal_data",
        schema=OrderOut, render=lambda order, personal: order_data(order, personal),
    ))

``render(subject, personal)`` returns the object (the API's schema) as ``GET`` answers it to a key
without (``personal=False``) or with the ``personal_scope``. An endpoint hears a type only if
its scopes hold ``scope``.
"""

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from ninja.responses import NinjaJSONEncoder

from hireops import outbound

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

log = logging.getLogger(__name__)

PING = "ping"


@dataclass(frozen=True)
class EventType:
    name: str
    description: "StrOrPromise"  # lazily translated: the admin's language; the OpenAPI document's English
    scope: str | None  # the read scope an endpoint needs to hear it (None: any endpoint)
    # The object as GET answers it: render(subject, personal, whole) → the API's schema object.
    # ``personal``: to a key with ``personal_scope``; ``whole``: to a key for every tenant.
    render: Callable[[Any, bool, bool], Any]
    schema: Any = None  # the pydantic model of ``data`` (the API's own), for the OpenAPI document
    personal_scope: str | None = None  # the scope that unmasks its personal data, if it has any
    # For an object spanning tenants (a payout run): its tenants. An endpoint limited to some
    # hears it if it pays one of theirs, and reads it as a key limited to them does.
    tenants: Callable[[Any], set[str]] | None = None


_types: dict[str, EventType] = {}
_discovered = False


def declare(event_type: EventType) -> EventType:
    _types[event_type.name] = event_type
    return event_type


def types() -> dict[str, EventType]:
    global _discovered
    if not _discovered:
        autodiscover_modules("webhook_events")
        _discovered = True
    return dict(sorted(_types.items()))


def get(name: str) -> EventType:
    try:
        return types()[name]
    except KeyError:
        raise LookupError(f"undeclared webhook event type {name!r}") from None


def hears(endpoint: WebhookEndpoint, event_type: EventType) -> bool:
    return event_type.scope is None or event_type.scope in endpoint.scopes


def _of_its_tenants(endpoint: WebhookEndpoint, tenant_key: str, spanned) -> bool:
    """Whether an endpoint limited to some tenants may hear of this (any endpoint for all may)."""
    if not endpoint.tenants:
        return True
    if spanned is not None:
        return bool(set(endpoint.tenants) & spanned())
    return bool(tenant_key) and tenant_key in endpoint.tenants


def _plain_json(data) -> dict:
    """The data as the API's answer holds it: the same encoder (a schema's datetimes to the
    millisecond, in UTC), so an event's data equals what ``GET`` returns."""
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


def listening(type_name: str) -> list[WebhookEndpoint]:
    """The enabled endpoints that hear ``type_name`` (whatever their tenants): none, and an
    event need not be written, nor its subject read."""
    event_type = get(type_name)
    return [
        e
        for e in WebhookEndpoint.objects.filter(enabled=True).only(
            "enabled", "event_types", "tenants", "scopes"
        )
        if e.wants(type_name) and hears(e, event_type)
    ]


def emit(
    type_name: str, subject, *, tenant_key: str = "", candidates: list[WebhookEndpoint] | None = None
) -> WebhookEvent | None:
    """Record that ``type_name`` happened to ``subject`` (of ``tenant_key``), in the caller's
    transaction: the event and a delivery for each enabled endpoint that hears it; their tasks
    are queued on commit. Nothing is written when no endpoint hears it. ``candidates``: what
    ``listening`` answered, when the caller asked it first (to read the subject only if needed)."""
    event_type = get(type_name)
    # Read outside a savepoint: most changes have no listener, and then nothing is written.
    candidates = listening(type_name) if candidates is None else candidates
    if not candidates:
        return None
    spanned = None
    if event_type.tenants is not None:
        found: list[set[str]] = []

        def spanned() -> set[str]:  # asked once, and only if an endpoint is limited to tenants
            if not found:
                found.append(set(event_type.tenants(subject)))  # type: ignore[misc]  # not None: tested above
            return found[0]

    endpoints = [e for e in candidates if _of_its_tenants(e, tenant_key, spanned)]
    if not endpoints:
        return None
    with transaction.atomic():  # the event and its deliveries, or neither
        return record(event_type, subject, endpoints, tenant_key=tenant_key)


def record(event_type: EventType, subject, endpoints, *, tenant_key: str = "") -> WebhookEvent:
    data = _plain_json(event_type.render(subject, False, True))
    personal = limited = None
    if event_type.personal_scope and any(event_type.personal_scope in e.scopes for e in endpoints):
        full = _plain_json(event_type.render(subject, True, True))
        personal = full if full != data else None
    if event_type.tenants is not None and any(e.tenants for e in endpoints):
        part = _plain_json(event_type.render(subject, False, False))
        limited = part if part != data else None
    event = WebhookEvent.objects.create(
        type=event_type.name, tenant_key=tenant_key, data=data, personal_data=personal, limited_data=limited
    )
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint=e, requested_at=now, next_attempt_at=now, queued_at=now)
        for e in endpoints
    )
    deliver = outbound.kind_named("webhooks.deliver")  # its module imports this one
    pks = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [deliver.send(pk) for pk in pks])  # type: ignore[func-returns-value]
    return event


def payload(event: WebhookEvent, endpoint: WebhookEndpoint) -> bytes:
    """The body every attempt of this event to this endpoint sends, byte for byte."""
    data = event.data
    if event.limited_data is not None and endpoint.tenants:
        data = event.limited_data  # an object spanning tenants, as a key limited to some reads it
    elif event.personal_data is not None:
        event_type = _types.get(event.type) or types().get(event.type)
        if event_type and event_type.personal_scope in endpoint.scopes:
            data = event.personal_data
    stamp = event.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event.type, "timestamp": stamp, "data": data}, ensure_ascii=False).encode()


# --- ping -----------------------------------------------------------------------------------


def _ping_data(endpoint: WebhookEndpoint, personal: bool, whole: bool) -> dict:
    return {"endpoint_id": endpoint.pk, "url": endpoint.url, "description": endpoint.description}


declare(
    EventType(
        PING,
        _("A test sent on request: its data names the endpoint it was sent to."),
        scope=None,
        render=_ping_data,
    )
)


def ping(endpoint: WebhookEndpoint) -> WebhookEvent:
    """Send a ``ping`` to this endpoint now, whatever its filters."""
    with transaction.atomic():
        return record(_types[PING], endpoint, [endpoint])
