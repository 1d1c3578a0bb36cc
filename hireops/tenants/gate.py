"""Which tenants the app may call: the Feishu client asks before every call (store apps).

A tenant that stopped the app (``app_status_change`` stop_*) or uninstalled it gets no call:
Feishu would refuse it anyway (with a code the docs do not pin down, feishu-api-2.md §1.4),
and the row that asked ends with this reason instead of being retried for ever. A tenant
hireops has not recorded yet is called: its first event may still be on its way, and
refusing it would refuse something legitimate. A self-built app's calls are its own tenant's.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils.translation import gettext_noop

from hireops.core.messages import Message
from hireops.feishu.errors import TenantUnavailable

from .mode import store_app
from .models import Tenant, TenantStatus

WHY: dict[str, str] = {
    TenantStatus.SUSPENDED: gettext_noop(
        "Not sent: customer tenant %(tenant)s has stopped the app. Calls for it resume once it "
        "enables the app again."
    ),
    TenantStatus.UNINSTALLED: gettext_noop("Not sent: customer tenant %(tenant)s has uninstalled the app."),
}


_answers: ContextVar[dict | None] = ContextVar("tenant_gate_answers", default=None)


@contextmanager
def asked_once() -> Iterator[None]:
    """Within the block the gate reads each tenant once: for calls a moment apart that belong
    together (a payout line's balance read and its withdrawal). A tenant that stops the app
    in that moment gets the second call, which Feishu refuses as it would have refused one
    sent a moment earlier; the row then fails with Feishu's reason rather than the gate's."""
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


def tenant_gate(tenant_key: str | None) -> None:
    if not store_app() or not tenant_key:
        return
    answers = _answers.get()
    if answers is not None and tenant_key in answers:
        tenant = answers[tenant_key]
    else:
        tenant = Tenant.objects.filter(tenant_key=tenant_key).values_list("name", "status").first()
        if answers is not None:
            answers[tenant_key] = tenant
    if tenant is None or tenant[1] == TenantStatus.INSTALLED:
        return
    name = f"{tenant[0]} ({tenant_key})" if tenant[0] else tenant_key
    raise TenantUnavailable(Message(WHY[tenant[1]], tenant=name), tenant_key=tenant_key)


def unavailable_tenant_keys() -> list[str]:
    """The tenants no call may go to now (store apps: stopped or uninstalled)."""
    if not store_app():
        return []
    stopped = Tenant.objects.exclude(status=TenantStatus.INSTALLED)
    return list(stopped.values_list("tenant_key", flat=True))


def callable_tenants(tenant_keys) -> list[str]:
    """The tenants among these that a call would be sent for (the gate's rule, asked once)."""
    if not store_app():
        return [k for k in tenant_keys if not k]  # a self-built app's rows belong to its own tenant
    stopped = set(unavailable_tenant_keys())
    return [k for k in tenant_keys if k and k not in stopped]
