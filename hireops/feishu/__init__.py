"""Feishu Open API client. Only this package talks HTTP to Feishu.

Nothing here imports Django models; this module is the one place that reads
``django.conf.settings`` and ``django.core.cache`` (lazily, inside the factories).
"""

from __future__ import annotations

import os
import threading

from . import hooks
from .auth import SELF_BUILT, STORE, TokenProvider
from .coordination import FileCoordinator, RedisCoordinator, get_coordinator
from .errors import (
    FeishuAuthError,
    FeishuBusinessError,
    FeishuError,
    FeishuQuotaExhausted,
    FeishuRateLimited,
    FeishuServerError,
    FeishuTransportError,
    TenantUnavailable,
)
from .http import FeishuClient, FeishuResponse

# (pid, base URL, app id, app secret, app type, timeout, coordination URL, quota minute)
_SettingsKey = tuple[int, str, str, str, str, float, str, float]

_clients: dict[_SettingsKey, FeishuClient] = {}
_clients_lock = threading.Lock()


def _settings_key() -> _SettingsKey:
    from django.conf import settings

    # The pid is part of the key: a client built before a fork (Celery prefork) must not
    # share its sockets with the children.
    return (
        os.getpid(),
        settings.FEISHU_BASE_URL,
        settings.FEISHU_APP_ID,
        settings.FEISHU_APP_SECRET,
        settings.FEISHU_APP_TYPE,
        float(settings.FEISHU_TIMEOUT),
        settings.FEISHU_COORDINATION_URL,
        float(settings.FEISHU_QUOTA_MINUTE),
    )


def get_client() -> FeishuClient:
    """The process's client for the current settings (a new one when they change)."""
    key = _settings_key()
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            from django.core.cache import cache

            _, base_url, app_id, app_secret, app_type, timeout, coordination_url, quota_minute = key
            client = FeishuClient(
                base_url,
                app_id,
                app_secret,
                app_type,
                cache=cache,
                coordinator=get_coordinator(coordination_url),
                timeout=timeout,
                quota_minute=quota_minute,
                tenant_gate=hooks.check_tenant,  # hireops.tenants plugs its gate in
            )
            _clients[key] = client
        return client


def save_app_ticket(app_id: str, ticket: str) -> None:
    """Called by the webhook when the ``app_ticket`` event arrives (store apps)."""
    from django.core.cache import cache

    from .auth import save_app_ticket as _save

    _save(cache, app_id, ticket)


__all__ = [
    "SELF_BUILT",
    "STORE",
    "FeishuAuthError",
    "FeishuBusinessError",
    "FeishuClient",
    "FeishuError",
    "FeishuQuotaExhausted",
    "FeishuRateLimited",
    "FeishuResponse",
    "FeishuServerError",
    "FeishuTransportError",
    "FileCoordinator",
    "RedisCoordinator",
    "TenantUnavailable",
    "TokenProvider",
    "get_client",
    "get_coordinator",
    "save_app_ticket",
]
