"""What the Feishu client reports, and asks, without importing the rest of hireops.

The client is the bottom layer of the project: it imports nothing else of the platform. The
layers above plug in at start-up, from their ``AppConfig.ready()``: ``hireops.ops`` counts
the calls, waits and token refreshes (Prometheus metrics, the pressure gauges), and
``hireops.tenants`` answers "may this tenant be called?". A script that imports only the
client (a benchmark, the sandbox) gets a client that reports to nobody and calls every tenant.

Events (positional arguments):
- ``call_finished(endpoint, status, code, seconds)``: an answer or a transport failure
  (``status`` / ``code`` None when there was none);
- ``limiter_waited(endpoint, seconds)``: the shared rate limiter's wait before a call;
- ``rate_limited(endpoint)``: Feishu answered 429 / 99991400;
- ``token_refreshed(kind)``: ``"tenant"`` or ``"app"``;
- ``reconnected()``: the long connection was lost and is being opened again.

A listener that fails is logged and skipped: reporting never fails a call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

EVENTS = ("call_finished", "limiter_waited", "rate_limited", "token_refreshed", "reconnected")
_listeners: dict[str, list[Callable[..., object]]] = {name: [] for name in EVENTS}
_tenant_gate: Callable[[str | None], None] | None = None


def on(event: str, listener: Callable[..., object]) -> None:
    """Call ``listener`` on every ``event`` (once, however often it is registered)."""
    if listener not in _listeners[event]:
        _listeners[event].append(listener)


def off(event: str, listener: Callable[..., object]) -> None:
    """Stop calling ``listener`` on ``event`` (a listener for a while: a test, a script)."""
    if listener in _listeners[event]:
        _listeners[event].remove(listener)


def emit(event: str, *args: object) -> None:
    for listener in _listeners[event]:
        try:
            listener(*args)
        except Exception:
            log.exception("feishu hook %s: a listener failed", event)


def set_tenant_gate(gate: Callable[[str | None], None] | None) -> None:
    """``gate(tenant_key)`` raises ``TenantUnavailable`` for a tenant not to be called."""
    global _tenant_gate
    _tenant_gate = gate


def check_tenant(tenant_key: str | None) -> None:
    if _tenant_gate is not None:
        _tenant_gate(tenant_key)
