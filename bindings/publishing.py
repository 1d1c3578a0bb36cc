"""Publishing custom-field definitions to Feishu, to every tenant that installed the app.

The vendor defines its fields once per scope. A publish request sends them to each target
tenant as its own ``FieldPublish`` (a self-built app: its own tenant, ""; a store app: every
installed tenant, and a tenant that installs later gets the current fields on its own), each
with its own task, token and rate-limit budget (Feishu's limits are per app and tenant).

Feishu's create call replaces the whole list of a scope (docs/feishu.md §2), so in each
tenant a stale publish must never overwrite a newer one; and no transaction stays open while
Feishu is called (locks are for milliseconds, not for round trips):

It runs on the outbound engine (hireops.outbound), with a second lease:

1. **claim**, in one short transaction: the publish and its tenant's ``TenantFieldScope`` row
   are locked; if another publish of the scope holds that tenant's lease, this one tries
   again later; otherwise the payload is built from committed rows, recorded with its
   revision, and the tenant's scope is leased to this publish;
2. **call** Feishu, outside any transaction;
3. **finish**, in another short transaction: the publish is closed only if it is still
   queued, the lease released only if it is still ours, and ``published_revision`` only
   moves forward.

The lease outlives the longest call the client can make (timeouts, retries and rate-limit
waits), so two publishes of one scope never overlap; a worker that dies mid-call leaves a
lease that simply expires. Should a publish still finish after its lease expired (another
may have been sent meanwhile, and Feishu keeps whichever came last), the scope is queued
for publishing to that tenant again, so Feishu always ends with the newest committed list.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import FeishuError, FeishuResponse, get_client, hire
from hireops.feishu.i18n import MissingText
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.feishu_calls.failures import Failure
from hireops.outbound.retry import TryLater
from hireops.tenants.mode import store_app

from .models import CustomFieldDefinition, FieldPublish, FieldScope, Scope, TenantFieldScope
from .selectors import fields_for, publish_targets

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)
BUSY = gettext_noop("Another publish of this scope to this tenant is being sent; this one is sent after it.")
NO_NAME = gettext_noop(
    "The custom field %(key)s has no name in Chinese or in English: give it one, then publish again."
)
NO_FIELD = gettext_noop("The scope has no active custom field any more.")
# Change-history messages (hireops.core.audit), on the scope, translated when read.
PUBLISH_REQUESTED = gettext_noop("Publish to Feishu requested (publish #%(publish)s).")
PUBLISH_REQUESTED_TENANTS = gettext_noop(
    "Publish to Feishu requested for %(tenants)s tenants (request %(batch)s)."
)


class PublishRefused(Exception):
    pass


def scope_state(scope: int) -> FieldScope:
    return FieldScope.objects.get_or_create(scope=scope)[0]


def tenant_state(scope: int, tenant_key: str) -> TenantFieldScope:
    return TenantFieldScope.objects.get_or_create(scope=scope, tenant_key=tenant_key)[0]


def scope_touch(scope: int, tenant_key: str = "") -> None:
    """Record that a scope's definitions changed (call inside the editing transaction): its
    shared ones (every tenant is behind) or one tenant's own (that tenant is)."""
    scope_state(scope)
    if not tenant_key:
        FieldScope.objects.filter(scope=scope).update(
            revision=F("revision") + 1, shared_revision=F("revision") + 1
        )
        return
    FieldScope.objects.filter(scope=scope).update(revision=F("revision") + 1)
    tenant_state(scope, tenant_key)
    revision = FieldScope.objects.filter(scope=scope).values("revision")
    TenantFieldScope.objects.filter(scope=scope, tenant_key=tenant_key).update(own_revision=revision)


def _fields(definitions) -> list[hire.CustomField]:
    return [
        hire.CustomField(
            key=f.key,
            name_zh=f.name_zh,
            name_en=f.name_en,
            is_required=f.is_required,
            description_zh=f.description_zh,
            description_en=f.description_en,
        )
        for f in definitions
    ]


def _payload(fields: list[hire.CustomField]) -> list[dict]:
    """The body's field list, as sent; raises ``MissingText`` for a field with no name at all."""
    return [f.to_json() for f in fields]


def fields_publish_request(scope: int, user=None, tenant_keys: list[str] | None = None) -> list[FieldPublish]:
    """Queue a publish of one scope to each target tenant (``tenant_keys``, else every one),
    in the scope's change history as ``user``'s; refuses a scope with no active field, or a
    field with no name."""
    if scope not in Scope.values:
        raise PublishRefused(_("Unknown scope %(scope)s.") % {"scope": scope})
    definitions = list(CustomFieldDefinition.objects.filter(scope=scope, is_active=True))
    if not definitions:
        raise PublishRefused(
            _("%(scope)s has no active custom field: Feishu would show an empty form, so nothing was sent.")
            % {"scope": Scope(scope).label}
        )
    try:
        _payload(_fields(definitions))
    except MissingText as exc:
        raise PublishRefused(Message(NO_NAME, key=exc.what)) from exc
    targets = publish_targets() if tenant_keys is None else tenant_keys
    if not any(not d.tenant_key for d in definitions):  # only some tenants have fields
        own = {d.tenant_key for d in definitions}
        targets = [t for t in targets if t in own]
    if not targets:
        raise PublishRefused(_("No tenant has installed the app yet: there is nobody to publish to."))
    with transaction.atomic():
        publishes = _queue(scope, targets, user)
        first, state = publishes[0], FieldScope.objects.filter(scope=scope)
        if len(publishes) == 1:
            audit.record(user, state, PUBLISH_REQUESTED, {"publish": first.pk})
        else:
            said = {"tenants": len(publishes), "batch": str(first.batch)}
            audit.record(user, state, PUBLISH_REQUESTED_TENANTS, said)
    return publishes


def _queue(scope: int, tenant_keys: list[str], user=None) -> list[FieldPublish]:
    batch = uuid.uuid4()
    with transaction.atomic():
        publishes = FieldPublish.objects.bulk_create(
            [FieldPublish(scope=scope, tenant_key=key, batch=batch, requested_by=user) for key in tenant_keys]
        )
        pks = [p.pk for p in publishes]
        transaction.on_commit(lambda: [PUBLISH.send(pk) for pk in pks])  # type: ignore[func-returns-value]
    return publishes


def publish_on_install(sender, tenant_key: str, **kwargs) -> None:
    if store_app():
        publish_to_new_tenant(tenant_key)


def publish_to_new_tenant(tenant_key: str) -> list[FieldPublish]:
    """A tenant installed the app: send it the current fields of every scope that has some."""
    definitions = CustomFieldDefinition.objects.filter(is_active=True, tenant_key__in={"", tenant_key})
    scopes = definitions.values_list("scope", flat=True).distinct()
    return [p for scope in sorted(set(scopes)) for p in _queue(scope, [tenant_key])]


def _tenant_scope(publish: FieldPublish):
    return TenantFieldScope.objects.filter(scope=publish.scope, tenant_key=publish.tenant_key)


def _prepare(publish: FieldPublish) -> list[hire.CustomField] | None:
    """Step 1 (the engine holds the publish locked): the tenant's scope is leased to this
    publish and the payload recorded with its revision; the fields to send, or None when
    there is nothing to send."""
    revision = scope_state(publish.scope).revision
    tenant_state(publish.scope, publish.tenant_key)
    state = _tenant_scope(publish).select_for_update().get()
    now = timezone.now()
    if state.sending_id not in (None, publish.pk) and state.leased_until > now:
        raise TryLater(Message(BUSY))
    fields = _fields(fields_for(publish.scope, publish.tenant_key))
    try:
        payload = _payload(fields) if fields else None
    except MissingText as exc:
        payload, reason = None, Message(NO_NAME, key=exc.what)
    else:
        reason = Message(NO_FIELD)
    publish.revision = revision
    publish.payload = {"scope": publish.scope, "custom_field_list": payload or []}
    if payload is None:
        outbound.close(
            PUBLISH, publish, CallStatus.FAILED, payload=publish.payload, revision=revision, error=reason
        )
        return None
    publish.save(update_fields=["revision", "payload"])
    state.sending, state.leased_until = publish, now + LEASE
    state.save(update_fields=["sending", "leased_until"])
    return fields


def _call(publish: FieldPublish, fields: list[hire.CustomField]) -> FeishuResponse:
    """Step 2: no transaction is open here."""
    tenant = publish.tenant_key or None
    return hire.create_custom_fields(get_client(), publish.scope, fields, tenant_key=tenant)


def _answer(publish: FieldPublish, fields: list[hire.CustomField], resp: FeishuResponse) -> dict[str, Any]:
    """Step 3: release the lease (if still ours) and move the published revision forward."""
    state = _tenant_scope(publish).select_for_update().get()
    publish.lease_was_ours = ours = state.sending_id == publish.pk  # type: ignore[attr-defined]  # kept for _published
    if ours:
        state.sending, state.leased_until = None, None
    if ours and publish.revision > state.published_revision:
        state.published_revision = publish.revision
    state.save(update_fields=["sending", "leased_until", "published_revision"])
    return {"response": {"code": 0, "msg": "ok", "data": resp.data}}


def _published(publish: FieldPublish, fields: list[hire.CustomField], resp: FeishuResponse) -> None:
    if not publish.lease_was_ours:  # type: ignore[attr-defined]  # set by the claim
        log.warning(
            "publish %s finished after its lease expired; publishing scope %s to its tenant again",
            publish.pk,
            publish.scope,
        )
        _queue(publish.scope, [publish.tenant_key])


def _response(
    publish: FieldPublish, fields: list[hire.CustomField], exc: FeishuError, failure: Failure
) -> None:
    """A failure keeps Feishu's answer on the publish (queued to try again, or failed)."""
    response = {"code": exc.code, "msg": exc.msg, "http_status": exc.http_status}
    FieldPublish.objects.filter(pk=publish.pk).update(response=response)


def _release(publish: FieldPublish) -> None:
    """After the call, whatever happened: the tenant's scope is free again, if still ours."""
    _tenant_scope(publish).filter(sending=publish).update(sending=None, leased_until=None)


PUBLISH: FeishuKind[FieldPublish, list[hire.CustomField], FeishuResponse] = outbound.register(
    outbound.Outbound(
        name="bindings.publish_fields",
        model=FieldPublish,
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        answer=_answer,
        effect=_published,
        retrying=_response,
        refused=_response,
        released=_release,
        lease=LEASE,
        swept_by=None,  # no sweep: a publish whose task was lost shows as stuck (ops status)
    )
)
