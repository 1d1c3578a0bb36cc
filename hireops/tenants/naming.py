"""A tenant's company name, from Feishu's tenant info API (docs/feishu.md §7.7).

Feishu's events carry only a tenant key. When a tenant enables a store app (``app_open``), or
when staff ask (the tenants list's action), a ``TenantNameLookup`` is committed and the task
``tenants.lookup_name`` asks Feishu with that tenant's token, like every outbound call:
retried with backoff when Feishu could not answer, failed with a reason staff can act on
otherwise, and asked again from the admin.

Whose name wins: ``Tenant.name`` is what every page shows. Feishu's answer is kept apart
(``feishu_name``, ``feishu_display_id``) and fills ``name`` only while nobody typed one: an
empty name, or one that came from Feishu (``name_from_feishu``; staff saving a name turns it
off). So a new tenant arrives named, a company's rename reaches a name nobody chose, and a
name staff typed is never replaced, whatever Feishu later says.
"""

import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from hireops.core.feishu_errors import judge
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.core.retry import GAVE_UP, TryLater
from hireops.feishu import FeishuError, get_client
from hireops.feishu.tenant import query_tenant

from .mode import store_app
from .models import Tenant, TenantNameLookup

log = logging.getLogger(__name__)

OTHER_TENANT = gettext_noop("Feishu answered for another tenant (%(other)s): nothing was recorded.")
NO_NAME = gettext_noop("Feishu's answer has no name for this tenant.")


def lookup_names(tenants, user=None) -> list[TenantNameLookup]:
    """Ask Feishu for these tenants' names: one lookup each, sent after the commit."""
    from .tasks import lookup_name

    with transaction.atomic():
        lookups = TenantNameLookup.objects.bulk_create(
            [TenantNameLookup(tenant=tenant, requested_by=user) for tenant in tenants]
        )
        pks = [lookup.pk for lookup in lookups]
        transaction.on_commit(lambda: [lookup_name.delay(pk) for pk in pks])
    return lookups


def lookup_on_install(tenant_key: str) -> None:
    """A tenant enabled the app (inside the transaction that records it). Only a store app's
    tenants send lifecycle events; a self-built app names its one tenant when staff ask."""
    if store_app():
        lookup_names(Tenant.objects.filter(tenant_key=tenant_key))


def _claim(pk: int) -> TenantNameLookup | None:
    with transaction.atomic():
        lookup = TenantNameLookup.objects.select_for_update().select_related("tenant").get(pk=pk)
        if lookup.status != CallStatus.QUEUED:
            return None  # answered already (the task ran twice)
        TenantNameLookup.objects.filter(pk=pk).update(attempts=F("attempts") + 1)
    return lookup


def lookup_run(pk: int) -> str:
    lookup = _claim(pk)
    if lookup is None:
        return TenantNameLookup.objects.values_list("status", flat=True).get(pk=pk)
    tenant_key = lookup.tenant.tenant_key
    try:  # no transaction is open here
        info = query_tenant(get_client(), tenant_key=tenant_key)
    except FeishuError as exc:
        failure = judge(exc)
        log.warning("name lookup %s of a tenant failed: %s", pk, exc)
        reason = failure.reason  # the tenant API's codes are explained in feishu_errors.BY_API
        if failure.retry:
            _update(pk, error=reason, error_code=failure.code, log_id=failure.log_id)
            raise TryLater(reason) from exc
        return _close(pk, CallStatus.FAILED, error=reason, error_code=failure.code, log_id=failure.log_id)
    answer = {"log_id": info.log_id or ""}
    if info.tenant_key != tenant_key:
        other = Message(OTHER_TENANT, other=info.tenant_key or "—")
        return _close(pk, CallStatus.FAILED, error=other, **answer)
    if not info.name.strip():
        return _close(pk, CallStatus.FAILED, error=Message(NO_NAME), **answer)
    name = info.name.strip()[:200]
    with transaction.atomic():
        _close(pk, CallStatus.SUCCEEDED, name=name, display_id=info.display_id[:64], **answer)
        tenants = Tenant.objects.filter(pk=lookup.tenant_id)
        tenants.update(feishu_name=name, feishu_display_id=info.display_id[:64])
        # One statement: a name staff save meanwhile (name_from_feishu off) is never replaced.
        tenants.filter(Q(name="") | Q(name_from_feishu=True)).update(name=name, name_from_feishu=True)
    return CallStatus.SUCCEEDED


def _update(pk: int, **fields) -> None:
    TenantNameLookup.objects.filter(pk=pk, status=CallStatus.QUEUED).update(**fields)


def _close(pk: int, status: str, **fields) -> str:
    done = {"error": "", "error_code": None, "log_id": "", **fields}
    _update(pk, status=status, finished_at=timezone.now(), **done)
    return status


def lookup_give_up(pk: int, reason: str) -> str:
    _update(pk, status=CallStatus.FAILED, finished_at=timezone.now(), error=Message(GAVE_UP, reason=reason))
    return CallStatus.FAILED
