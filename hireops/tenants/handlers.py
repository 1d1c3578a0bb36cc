"""Store apps' lifecycle events (schema 1.0, docs/feishu-api-2.md §1.1) move a tenant's status."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_noop

from hireops.core.messages import Message

from .models import TenantStatus
from .services import tenant_lifecycle

# app_status_change's status → ours. An unknown status fails the event (visible in the event
# log, reprocessable once understood) rather than guessing.
STATUS_CHANGE = {
    "start_by_tenant": TenantStatus.INSTALLED,
    "stop_by_tenant": TenantStatus.SUSPENDED,
    "stop_by_platform": TenantStatus.SUSPENDED,
}


def _feishu_time_ms(ts) -> int | None:
    """The 1.0 envelope's ``ts``: a string of epoch seconds with a fraction."""
    try:
        return int(Decimal(str(ts)) * 1000)
    except (InvalidOperation, ValueError, TypeError):
        return None


def lifecycle(event) -> None:
    body = event.payload.get("event") or {}
    kind = body.get("type") or event.event_type
    tenant_key = body.get("tenant_key") or event.tenant_key
    if not tenant_key:
        raise ValueError(
            Message(gettext_noop("The lifecycle event names no tenant (tenant_key is missing)."))
        )
    feishu_status = ""
    if kind == "app_open":
        to_status = TenantStatus.INSTALLED
    elif kind == "app_uninstalled":
        to_status = TenantStatus.UNINSTALLED
    elif kind == "app_status_change":
        feishu_status = str(body.get("status") or "")
        if feishu_status not in STATUS_CHANGE:
            raise ValueError(
                Message(
                    gettext_noop("Unknown app status %(status)s: the tenant's status was left as it was."),
                    status=feishu_status or "—",
                )
            )
        to_status = STATUS_CHANGE[feishu_status]
    else:
        raise ValueError(Message(gettext_noop("Not a lifecycle event: %(type)s."), type=kind))
    tenant_lifecycle(
        tenant_key=tenant_key,
        event_id=event.event_id,
        event_type=kind,
        to_status=to_status,
        feishu_status=feishu_status,
        feishu_time_ms=_feishu_time_ms(event.payload.get("ts")),
    )
