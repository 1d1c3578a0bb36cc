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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from ninja.responses import NinjaJSONEncoder

from hireops import outbound
from hireops.core import audit, discovery

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

log = logging.getLogger(__name__)

PING = "ping"
# Change-history message (hireops.core.audit), on the endpoint, translated when read.
PINGED = gettext_noop("Sent a test event (ping).")


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


def declare(event_type: EventType) -> EventType:
    _types[event_type.name] = event_type
    return event_type


def types() -> dict[str, EventType]:
    discovery.require("webhook_events")  # every app's webhook_events.py (hireops.webhooks.apps)
    return dict(sorted(_types.items()))


def get(name: str) -> EventType:
    try:
        return types()[name]
    except KeyError:
        raise LookupError(f"undeclared webhook event type {name!r}") from None


def hears(endpoint: WebhookEndpoint, event_type: EventType) -> bool:
    return event_type.scope is None or event_type.scope in endpoint.scopes


def _of_its_tenants(
    endpoint: WebhookEndpoint, tenant_key: str, spanned: Callable[[], set[str]] | None
) -> bool:
    """Whether an endpoint limited to some tenants may hear of this (any endpoint for all may)."""
    if not endpoint.tenants:
        return True
    if spanned is not None:
        return bool(set(endpoint.tenants) & spanned())
    return bool(tenant_key) and tenant_key in endpoint.tenants


def _plain_json(data: object) -> dict[str, Any]:
    """The data as the API's answer holds it: the same encoder (a schema's datetimes to the
    millisecond, in UTC), so an event's data equals what ``GET`` returns."""
    plain: dict[str, Any] = json.loads(json.dumps(data, cls=NinjaJSONEncoder))
    return plain


@dataclass(frozen=True)
class Audience:
    """Who may hear of an event of one type: the enabled endpoints that hear it (whatever their
    tenants), and whether some usable key could list it (``GET /events``). Nobody: the event
    need not be written, nor its subject read."""

    endpoints: list[WebhookEndpoint]
    readers: bool

    def __bool__(self) -> bool:
        return bool(self.endpoints) or self.readers


def _read_by_a_key(event_type: EventType) -> bool:
    """Whether a usable API key holds the scope the type is read with: such a key may list the
    event later (a partner catching up), so it is kept even when no endpoint hears it now."""
    if event_type.name == PING:
        return False
    from hireops.api.models import ApiKey

    now = timezone.now()
    usable = ApiKey.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True
    )
    return any(
        event_type.scope is None or event_type.scope in held
        for held in usable.values_list("scopes", flat=True)
    )


def audience(type_name: str) -> Audience:
    event_type = get(type_name)
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(enabled=True).only(
            "enabled", "event_types", "tenants", "scopes"
        )
        if e.wants(type_name) and hears(e, event_type)
    ]
    return Audience(endpoints, _read_by_a_key(event_type))


def emit(
    type_name: str, subject: Any, *, tenant_key: str = "", heard: Audience | None = None
) -> WebhookEvent | None:
    """Record that ``type_name`` happened to ``subject`` (of ``tenant_key``), in the caller's
    transaction: the event and a delivery for each enabled endpoint that hears it; their tasks
    are queued on commit. Nothing is written when nobody may hear of it (no endpoint hears it
    and no key could list it). ``heard``: what ``audience`` answered, when the caller asked it
    first (to read the subject only if needed)."""
    event_type = get(type_name)
    # Read outside a savepoint: most changes have no listener, and then nothing is written.
    heard = audience(type_name) if heard is None else heard
    if not heard:
        return None
    spanned: Callable[[], set[str]] | None = None
    tenants_of = event_type.tenants
    if tenants_of is not None:
        found: list[set[str]] = []

        def spanned_now() -> set[str]:  # asked once, and only if needed
            if not found:
                found.append(set(tenants_of(subject)))
            return found[0]

        spanned = spanned_now

    endpoints = [e for e in heard.endpoints if _of_its_tenants(e, tenant_key, spanned)]
    if not endpoints and not heard.readers:
        return None
    with transaction.atomic():  # the event and its deliveries, or neither
        return record(
            event_type,
            subject,
            endpoints,
            tenant_key=tenant_key,
            for_readers=heard.readers,
            spans=spanned() if spanned is not None else None,
        )


def record(
    event_type: EventType,
    subject: Any,
    endpoints: Sequence[WebhookEndpoint],
    *,
    tenant_key: str = "",
    for_readers: bool = False,
    spans: set[str] | None = None,
) -> WebhookEvent:
    """The event and its deliveries. Its data as each reader reads it: ``data`` for a key for
    every tenant without personal-data scopes, ``personal_data`` and ``limited_data`` (each kept
    when it differs) as an endpoint, or a key (``for_readers``), with them reads it."""
    # In English, as the API answers: a change made in a Chinese admin page or by a worker
    # tells partners the same words (stored messages render in the active language).
    with translation.override("en"):
        data = _plain_json(event_type.render(subject, False, True))
        personal = limited = None
        personal_heard = any(event_type.personal_scope in e.scopes for e in endpoints)
        if event_type.personal_scope and (for_readers or personal_heard):
            full = _plain_json(event_type.render(subject, True, True))
            personal = full if full != data else None
        if event_type.tenants is not None and (for_readers or any(e.tenants for e in endpoints)):
            part = _plain_json(event_type.render(subject, False, False))
            limited = part if part != data else None
    event = WebhookEvent.objects.create(
        type=event_type.name,
        tenant_key=tenant_key,
        spans=",".join(["", *sorted(spans), ""]) if spans else "",
        data=data,
        personal_data=personal,
        limited_data=limited,
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


def data_for(event: WebhookEvent, scopes: Sequence[str], *, limited: bool) -> dict[str, Any]:
    """The event's data as one with ``scopes`` reads it (``limited``: to some tenants): the
    same for an endpoint's delivery and a key's ``GET /events``."""
    data: dict[str, Any] = event.data
    if event.limited_data is not None and limited:
        data = event.limited_data  # an object spanning tenants, as a key limited to some reads it
    elif event.personal_data is not None:
        event_type = _types.get(event.type) or types().get(event.type)
        if event_type and event_type.personal_scope in scopes:
            data = event.personal_data
    return data


def timestamp(event: WebhookEvent) -> str:
    return event.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def payload(event: WebhookEvent, endpoint: WebhookEndpoint) -> bytes:
    """The body every attempt of this event to this endpoint sends, byte for byte."""
    data = data_for(event, endpoint.scopes, limited=bool(endpoint.tenants))
    body = {"type": event.type, "timestamp": timestamp(event), "data": data}
    return json.dumps(body, ensure_ascii=False).encode()


# --- ping -----------------------------------------------------------------------------------


def _ping_data(endpoint: WebhookEndpoint, personal: bool, whole: bool) -> dict[str, Any]:
    return {"endpoint_id": endpoint.pk, "url": endpoint.url, "description": endpoint.description}


declare(
    EventType(
        PING,
        _("A test sent on request: its data names the endpoint it was sent to."),
        scope=None,
        render=_ping_data,
    )
)


def ping(endpoint: WebhookEndpoint, by: "User | None" = None) -> WebhookEvent:
    """Send a ``ping`` to this endpoint now, whatever its filters (in ``by``'s change history)."""
    with transaction.atomic():
        event = record(_types[PING], endpoint, [endpoint])
        audit.record(by, [endpoint], PINGED)
    return event
