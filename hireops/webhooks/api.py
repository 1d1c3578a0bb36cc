"""A partner's system manages its webhook endpoints (``/api/v1/webhook-endpoints``, scope
``webhooks:manage``), with the admin's checks (``endpoints``) bounded by the key's reach:

- a key reaches only the endpoints it made: any other (another key's, one staff made) answers
  404 exactly as a missing one does, so it never reads, changes, pings, resends or deletes
  another partner's endpoint, nor learns that it exists;
- an endpoint as it will be is checked at every change: its data scopes are some of the key's
  own (its events never tell more than the key could read), its event types are heard with
  them, and a key limited to tenants names only its tenants;
- a new ``url`` gets a new secret, the old one not carried over.

The creation's answer carries the secret, as ``GET …/secret``, ``POST …/rotate-secret`` and a
change of ``url`` do.
"""

import datetime as dt
import enum
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from hireops.api.keys import KeyedRequest
from hireops.api.pagination import PageOf, PageParams, page
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Moment, Page, Text64, Text128, Text200, Text2000, Timestamp
from hireops.api.scopes import declare
from hireops.api.site import DOCUMENT_EXTENSIONS, SCOPE_FIELD, operation, register
from hireops.core.models import CallStatus

from . import delivery, endpoints, events, feed, signing
from .models import WebhookDelivery, WebhookEndpoint

MANAGE = "webhooks:manage"
declare(
    MANAGE,
    _("Manage webhook endpoints: where hireops sends events, their secrets and deliveries"),
    permission="webhooks.change_webhookendpoint",
)
router = Router(tags=["Webhook endpoints"])
MAX_ID = 2**63 - 1


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str] = Field(description="Empty: every event its scopes allow")
    tenants: list[str] = Field(description="Empty: every tenant")
    scopes: list[str] = Field(description="The events' data is what a key with these scopes reads")
    enabled: bool
    disabled_reason: str | None
    failing_since: Moment | None = Field(description="The first failed attempt since the last success")
    created_at: Moment
    updated_at: Moment


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_…: verifies each delivery's webhook-signature")


class SecretOut(Schema):
    secret: str
    previous_valid_until: Moment | None = Field(
        None, description="After a rotation: the previous secret signs too until then"
    )


class EndpointChanged(EndpointOut):
    secret: str | None = Field(
        None, description="Its new secret when the url changed (the previous one no longer signs); else null"
    )


SCOPES_DEFAULT = (
    "Empty: the read scopes its event types are heard with, among the key's own (every read scope "
    "of the key when event_types is empty); a personal-data scope only when named"
)


class EndpointIn(Schema):
    url: Text2000 = Field(description="https:// (a public address)")
    description: Text200 = ""
    event_types: list[Text64] = Field(
        default=[], max_length=50, description="Empty: every event its scopes allow"
    )
    tenants: list[Text128] = Field(default=[], max_length=1000, description="Empty: every tenant")
    scopes: list[Text64] = Field(default=[], max_length=50, description=SCOPES_DEFAULT)


class EndpointPatch(Schema):
    """Only the fields sent change. ``enabled: true`` enables a disabled endpoint again."""

    url: Text2000 | None = None
    description: Text200 | None = None
    event_types: list[Text64] | None = Field(default=None, max_length=50)
    tenants: list[Text128] | None = Field(default=None, max_length=1000)
    scopes: list[Text64] | None = Field(default=None, max_length=50, description=SCOPES_DEFAULT)
    enabled: bool | None = None


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt, or being sent
    DELIVERED = "delivered"
    FAILED = "failed"


STATE: dict[str, DeliveryState] = {
    CallStatus.QUEUED: DeliveryState.PENDING,
    CallStatus.SUCCEEDED: DeliveryState.DELIVERED,
    CallStatus.FAILED: DeliveryState.FAILED,
}
STATUS = {state: status for status, state in STATE.items()}


class DeliveryOut(Schema):
    id: int
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt")
    type: str
    status: DeliveryState
    attempts: int
    last_status_code: int | None
    error: str | None
    next_attempt_at: Moment | None
    requested_at: Moment
    finished_at: Moment | None


class DeliveryFilters(PageParams):
    status: DeliveryState | None = None


class ResendIn(Schema):
    since: Timestamp = Field(description="Every delivery that failed and was requested since then")


class ResentOut(Schema):
    resent: int


def _out(e: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=e.pk,
        url=e.url,
        description=e.description,
        event_types=e.event_types,
        tenants=e.tenants,
        scopes=e.scopes,
        enabled=e.enabled,
        disabled_reason=str(e.disabled_reason) or None,
        failing_since=e.failing_since,
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


def _delivery_out(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.pk,
        webhook_id=d.event.webhook_id,
        type=d.event.type,
        status=STATE[d.status],
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        error=str(d.error) or None,
        next_attempt_at=d.next_attempt_at if d.status == CallStatus.QUEUED else None,
        requested_at=d.requested_at,
        finished_at=d.finished_at,
    )


def _endpoint(request: KeyedRequest, id: int, *, lock: bool = False) -> WebhookEndpoint:
    """The key's own endpoint ``id``; any other is missing (404), whoever's it is."""
    if not 1 <= id <= MAX_ID:
        raise not_found()
    rows = WebhookEndpoint.objects.select_for_update() if lock else WebhookEndpoint.objects
    found = rows.filter(pk=id, owner_key=request.api_key).first()
    if found is None or not endpoints.Reach.of_key(request.api_key).covers(found):
        raise not_found()
    return found


def _refused(exc: endpoints.EndpointRefused) -> Problem:
    return Problem(422, str(exc), kind="invalid-request", errors=[(exc.field or "request", str(exc))])


@operation(
    router.get,
    "/webhook-endpoints",
    "listWebhookEndpoints",
    scope=MANAGE,
    summary="List webhook endpoints",
    response=Page[EndpointOut],
)
def list_endpoints(request: KeyedRequest, filters: Query[PageParams]) -> PageOf[EndpointOut]:
    return page(WebhookEndpoint.objects.filter(owner_key=request.api_key), filters, serialize=_out)


@operation(
    router.post,
    "/webhook-endpoints",
    "createWebhookEndpoint",
    scope=MANAGE,
    summary="Add a webhook endpoint (the answer carries its signing secret)",
    response={201: EndpointCreated},
    write=True,
    created="/webhook-endpoints/{id}",
)
def create_endpoint(request: KeyedRequest, payload: EndpointIn) -> Status[EndpointCreated]:
    try:
        made, secret = endpoints.create(
            url=payload.url,
            description=payload.description,
            event_types=payload.event_types,
            tenants=payload.tenants,
            scopes=payload.scopes,
            key=request.api_key,
        )
    except endpoints.EndpointRefused as exc:
        raise _refused(exc) from None
    return Status(201, EndpointCreated(**_out(made).model_dump(), secret=secret))


@operation(
    router.get,
    "/webhook-endpoints/{id}",
    "getWebhookEndpoint",
    scope=MANAGE,
    summary="One webhook endpoint",
    response=EndpointOut,
)
def get_endpoint(request: KeyedRequest, id: int) -> EndpointOut:
    return _out(_endpoint(request, id))


@operation(
    router.patch,
    "/webhook-endpoints/{id}",
    "updateWebhookEndpoint",
    scope=MANAGE,
    summary="Change a webhook endpoint (a new url gets a new secret)",
    response=EndpointChanged,
    write=True,
)
def update_endpoint(request: KeyedRequest, id: int, payload: EndpointPatch) -> EndpointChanged:
    sent = {name: getattr(payload, name) for name in payload.model_fields_set}
    asked = endpoints.Changes(**{name: value for name, value in sent.items() if value is not None})
    with transaction.atomic():
        endpoint = _endpoint(request, id, lock=True)
        try:
            secret = endpoints.change(endpoint, endpoints.Reach.of_key(request.api_key), asked)
        except endpoints.EndpointRefused as exc:
            raise _refused(exc) from None
    return EndpointChanged(**_out(endpoint).model_dump(), secret=secret)


@operation(
    router.delete,
    "/webhook-endpoints/{id}",
    "deleteWebhookEndpoint",
    scope=MANAGE,
    summary="Remove a webhook endpoint and its delivery log",
    response={204: None},
    write=True,
)
def delete_endpoint(request: KeyedRequest, id: int) -> Status[None]:
    try:
        endpoints.remove(_endpoint(request, id), endpoints.Reach.of_key(request.api_key))
    except endpoints.EndpointRefused as exc:
        raise _refused(exc) from None
    return Status(204, None)


@operation(
    router.get,
    "/webhook-endpoints/{id}/secret",
    "getWebhookSecret",
    scope=MANAGE,
    summary="The endpoint's signing secret",
    response=SecretOut,
)
def get_secret(request: KeyedRequest, id: int) -> SecretOut:
    endpoint = _endpoint(request, id)
    previous = endpoint.previous_until if len(signing.signing_secrets(endpoint)) > 1 else None
    return SecretOut(secret=signing.current_secret(endpoint), previous_valid_until=previous)


@operation(
    router.post,
    "/webhook-endpoints/{id}/rotate-secret",
    "rotateWebhookSecret",
    scope=MANAGE,
    summary="A new signing secret; the previous one keeps signing beside it for 24 hours",
    response=SecretOut,
    write=True,
)
def rotate_secret(request: KeyedRequest, id: int) -> SecretOut:
    with transaction.atomic():
        endpoint = _endpoint(request, id, lock=True)
        try:
            secret = endpoints.rotate_secret(endpoint, endpoints.Reach.of_key(request.api_key))
        except endpoints.EndpointRefused as exc:
            raise _refused(exc) from None
    return SecretOut(secret=secret, previous_valid_until=endpoint.previous_until)


@operation(
    router.post,
    "/webhook-endpoints/{id}/test",
    "sendWebhookPing",
    scope=MANAGE,
    summary="Send a ping event to the endpoint now, whatever its filters",
    response={202: DeliveryOut},
    write=True,
)
def test_endpoint(request: KeyedRequest, id: int) -> Status[DeliveryOut]:
    endpoint = _endpoint(request, id)
    event = events.ping(endpoint, by=request.api_key.actor)
    return Status(202, _delivery_out(event.deliveries.select_related("event").get()))


def _deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.select_related("event")


@operation(
    router.get,
    "/webhook-endpoints/{id}/deliveries",
    "listWebhookDeliveries",
    scope=MANAGE,
    summary="The endpoint's deliveries, newest first",
    response=Page[DeliveryOut],
)
def list_deliveries(request: KeyedRequest, id: int, filters: Query[DeliveryFilters]) -> PageOf[DeliveryOut]:
    rows = _deliveries(_endpoint(request, id))
    if filters.status:
        rows = rows.filter(status=STATUS[filters.status])
    order = (("requested_at", dt.datetime), ("id", int))
    return page(rows, filters, order=order, serialize=_delivery_out, newest_first=True)


@operation(
    router.post,
    "/webhook-deliveries/{id}/resend",
    "resendWebhookDelivery",
    scope=MANAGE,
    summary="Send one delivery again (the same event and webhook-id)",
    response={202: DeliveryOut},
    write=True,
)
def resend_delivery(request: KeyedRequest, id: int) -> Status[DeliveryOut]:
    if not 1 <= id <= MAX_ID:
        raise not_found()
    found = WebhookDelivery.objects.filter(pk=id, endpoint__owner_key=request.api_key).first()
    if found is None:
        raise not_found()
    _endpoint(request, found.endpoint_id)  # and one the key still covers as it is
    rows = WebhookDelivery.objects.filter(pk=id)
    delivery.resend(rows, by=request.api_key.actor)
    return Status(202, _delivery_out(rows.select_related("event").get()))


@operation(
    router.post,
    "/webhook-endpoints/{id}/resend-failed",
    "resendFailedWebhookDeliveries",
    scope=MANAGE,
    summary="Send again every delivery that failed since a time",
    response={202: ResentOut},
    write=True,
)
def resend_failed(request: KeyedRequest, id: int, payload: ResendIn) -> Status[ResentOut]:
    endpoint = _endpoint(request, id)
    resent = delivery.resend_failed_since(endpoint, payload.since, by=request.api_key.actor)
    return Status(202, ResentOut(resent=resent))


register(router)


# --- catching up: the events a key could have heard --------------------------------------------

feed_router = Router(tags=["Events"])


class EventOut(Schema):
    id: str = Field(description="The webhook-id its deliveries carried (msg_…): deduplicate by it")
    type: str
    timestamp: str = Field(
        description="When it happened (ISO 8601, UTC), as the webhook's",
        json_schema_extra={"format": "date-time"},
    )
    data: dict[str, Any] = Field(
        description="The same data its webhook carries to an endpoint with this key's scopes"
    )


class EventFilters(PageParams):
    type: Text64 | None = Field(None, description="One event type (GET /event-types lists them)")
    created_after: Timestamp | None = Field(None, description="Only events after this moment")


class EventTypeOut(Schema):
    name: str
    description: str
    scope: str | None = Field(description="The scope it is heard and listed with (null: every endpoint)")
    personal_scope: str | None = Field(description="The scope that unmasks its personal data, if it has any")
    heard: bool = Field(description="Whether this key's scopes hear it")


@operation(
    feed_router.get,
    "/events",
    "listEvents",
    scope=None,
    summary="The events this key could have heard, kept WEBHOOK_KEEP_DAYS (30), newest first",
    response=Page[EventOut],
)
def list_events(request: KeyedRequest, filters: Query[EventFilters]) -> PageOf[dict[str, Any]]:
    key = request.api_key
    if filters.type is not None and filters.type not in feed.heard_types(key):
        known = events.types().get(filters.type)
        detail = (
            f"This key does not hear {filters.type}: it is heard with {known.scope}."
            if known is not None and filters.type != events.PING
            else f"No event type {filters.type} (GET /event-types lists them)."
        )
        raise Problem(400, detail, kind="invalid-parameter", errors=[("type", detail)])
    rows = feed.for_key(key, type_name=filters.type, created_after=filters.created_after)
    order = (("created_at", dt.datetime), ("id", int))
    return page(rows, filters, order=order, serialize=lambda e: feed.as_read_by(e, key), newest_first=True)


@operation(
    feed_router.get,
    "/event-types",
    "getEventTypes",
    scope=None,
    summary="The event types: what each says, the scope it is heard with, and whether this key hears it",
    response=list[EventTypeOut],
)
def list_event_types(request: KeyedRequest) -> list[EventTypeOut]:
    heard = feed.heard_types(request.api_key)
    return [
        EventTypeOut(
            name=name,
            description=str(t.description),
            scope=t.scope,
            personal_scope=t.personal_scope,
            heard=name in heard,
        )
        for name, t in events.types().items()
        if name != events.PING
    ]


register(feed_router)


# --- the events, in the document's ``webhooks`` (OpenAPI 3.1) ---------------------------------


class PingData(Schema):
    endpoint_id: int
    url: str
    description: str


def _component(schema: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A reference to ``model`` among the document's schemas, adding it (and what it uses) if absent."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    name = model.__name__
    if name not in components:
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for inner, definition in found.pop("$defs", {}).items():
            components.setdefault(inner, definition)
        components[name] = found
    return {"$ref": f"#/components/schemas/{name}"}


def document_events(schema: dict[str, Any]) -> None:
    with translation.override("en"):
        schema["webhooks"] = _events_document(schema)


def _events_document(schema: dict[str, Any]) -> dict[str, Any]:
    hooks: dict[str, Any] = {}
    for name, event_type in events.types().items():
        model = PingData if name == events.PING else event_type.schema
        envelope = {
            "type": "object",
            "required": ["type", "timestamp", "data"],
            "properties": {
                "type": {"const": name},
                "timestamp": {"type": "string", "format": "date-time"},
                "data": _component(schema, model) if model is not None else {"type": "object"},
            },
        }
        hooks[name] = {
            "post": {
                "summary": str(event_type.description),
                # What a partner's receiver does with it: receiveOrderCreated, receivePing.
                "operationId": "receive" + "".join(w.capitalize() for w in name.replace("_", ".").split(".")),
                "description": (
                    "Signed per Standard Webhooks v1 (webhook-id, webhook-timestamp, webhook-signature); "
                    f"heard by endpoints whose scopes hold {event_type.scope}."
                    if event_type.scope
                    else "Signed per Standard Webhooks v1 (webhook-id, webhook-timestamp, webhook-signature)."
                ),
                "requestBody": {"required": True, "content": {"application/json": {"schema": envelope}}},
                "responses": {"2XX": {"description": "Received (anything else is tried again)"}},
                SCOPE_FIELD: event_type.scope,
            }
        }
    return hooks


DOCUMENT_EXTENSIONS.append(document_events)
