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

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import get_client
from hireops.feishu.tenant import TenantInfo, query_tenant
from hireops.feishu_calls.callee import FEISHU, FeishuKind

from .mode import store_app
from .models import Tenant, TenantNameLookup

OTHER_TENANT = gettext_noop("Feishu answered for another tenant (%(other)s): nothing was recorded.")
NO_NAME = gettext_noop("Feishu's answer has no name for this tenant.")
# Change-history message (hireops.core.audit), on each tenant asked about.
NAME_ASKED = gettext_noop("Name asked of Feishu (lookup %(lookup)s).")


def lookup_names(tenants, user=None) -> list[TenantNameLookup]:
    """Ask Feishu for these tenants' names: one lookup each, sent after the commit, each in the
    tenant's change history when a person asked."""
    with transaction.atomic():
        lookups = TenantNameLookup.objects.bulk_create(
            [TenantNameLookup(tenant=tenant, requested_by=user) for tenant in tenants]
        )
        for lookup in lookups:
            audit.record(user, [lookup.tenant], NAME_ASKED, {"lookup": f"#{lookup.pk}"})
        pks = [lookup.pk for lookup in lookups]
        transaction.on_commit(lambda: [LOOKUP.send(pk) for pk in pks])  # type: ignore[func-returns-value]
    return lookups


def lookup_on_install(tenant_key: str) -> None:
    """A tenant enabled the app (inside the transaction that records it). Only a store app's
    tenants send lifecycle events; a self-built app names its one tenant when staff ask."""
    if store_app():
        lookup_names(Tenant.objects.filter(tenant_key=tenant_key))


def _prepare(lookup: TenantNameLookup) -> str:
    return lookup.tenant.tenant_key


def _call(lookup: TenantNameLookup, tenant_key: str) -> TenantInfo:
    return query_tenant(get_client(), tenant_key=tenant_key)


def _answer(lookup: TenantNameLookup, tenant_key: str, info: TenantInfo) -> dict[str, Any]:
    if info.tenant_key != tenant_key:
        return {"status": CallStatus.FAILED, "error": Message(OTHER_TENANT, other=info.tenant_key or "—")}
    if not info.name.strip():
        return {"status": CallStatus.FAILED, "error": Message(NO_NAME)}
    return {"name": info.name.strip()[:200], "display_id": info.display_id[:64]}


def _named(lookup: TenantNameLookup, tenant_key: str, info: TenantInfo) -> None:
    name, display_id = info.name.strip()[:200], info.display_id[:64]
    tenants = Tenant.objects.filter(pk=lookup.tenant_id)
    tenants.update(feishu_name=name, feishu_display_id=display_id, updated_at=Now())
    # One statement: a name staff save meanwhile (name_from_feishu off) is never replaced.
    tenants.filter(Q(name="") | Q(name_from_feishu=True)).update(
        name=name, name_from_feishu=True, updated_at=Now()
    )


# The tenant API's codes are explained in failures.BY_API, like every other API's.
LOOKUP: FeishuKind[TenantNameLookup, str, TenantInfo] = outbound.register(
    outbound.Outbound(
        name="tenants.lookup_name",
        model=TenantNameLookup,
        related=("tenant",),
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        answer=_answer,
        effect=_named,
        swept_by=None,  # no sweep: staff ask again from the tenants list
    )
)
