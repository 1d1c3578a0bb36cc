"""Tenants come and go: recorded from every event's tenant_key and from the lifecycle events."""

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from .models import Tenant, TenantStatus, TenantStatusChange
from .signals import tenant_installed, tenant_uninstalled

logger = logging.getLogger(__name__)

SEEN_EVERY = 60.0  # seconds: how often one process moves a tenant's "last event" forward
_seen_lock = threading.Lock()
_seen_at: dict[str, float] = {}  # tenant_key -> when this process last recorded it (monotonic)


class SeenUpsert(NamedTuple):
    """The statement that records tenants seen, and what it records."""

    sql: str
    params: list[str | datetime | None]  # the keys, a status and times, as the database takes them
    keys: list[str]
    at: float  # time.monotonic() when it was made


def seen_upsert(keys: Iterable[str]) -> SeenUpsert | None:
    """What recording these tenants' events needs now: None when this process recorded every
    one of them lately. Run it, then ``seen_recorded``; ``tenants_seen`` does both on Django's
    connection, the inbox's loop writer on its own."""
    now_mono = time.monotonic()
    with _seen_lock:
        due = sorted(k for k in set(keys) if k and now_mono - _seen_at.get(k, -SEEN_EVERY) >= SEEN_EVERY)
    if not due:
        return None
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Tenant._meta.db_table)
    one = "(%s, '', %s, NULL, %s, %s)"
    # Sorted keys: two processes lock the rows in the same order. The WHERE keeps a row that
    # is fresh enough untouched (no new row version for it).
    sql = (
        f"INSERT INTO {table} (tenant_key, name, status, status_since_ms, first_seen, last_seen) "  # noqa: S608
        f"VALUES {', '.join([one] * len(due))} "
        f"ON CONFLICT (tenant_key) DO UPDATE SET last_seen = EXCLUDED.last_seen "
        f"WHERE {table}.last_seen < %s"
    )
    params: list[str | datetime | None] = [
        v for k in due for v in (k, TenantStatus.INSTALLED.value, adapt(now), adapt(now))
    ]
    params.append(adapt(now - timedelta(seconds=SEEN_EVERY)))
    return SeenUpsert(sql, params, due, now_mono)


def seen_recorded(upsert: SeenUpsert) -> None:
    with _seen_lock:
        _seen_at.update(dict.fromkeys(upsert.keys, upsert.at))


def tenants_seen(keys: Iterable[str]) -> None:
    """Events of these tenants arrived: create the tenants not known yet and move ``last_seen``
    forward. It runs after every batch the inbox commits, so a process records a tenant at
    most once a minute, and never locks a tenant row it does not need to change."""
    upsert = seen_upsert(keys)
    if upsert is None:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(upsert.sql, upsert.params)
    seen_recorded(upsert)


def forget_seen() -> None:
    """Tests: forget which tenants this process recorded lately."""
    with _seen_lock:
        _seen_at.clear()


def tenant_lifecycle(
    *,
    tenant_key: str,
    event_id: str,
    event_type: str,
    to_status: str,
    feishu_status: str = "",
    feishu_time_ms: int | None = None,
) -> TenantStatusChange:
    """Record a lifecycle event and apply it, unless a newer one already set the status.
    Idempotent: the same event again (a retried delivery, a reprocess) changes nothing."""
    with transaction.atomic():
        done = TenantStatusChange.objects.filter(event_id=event_id).first()
        if done is not None:
            return done
        Tenant.objects.get_or_create(tenant_key=tenant_key)
        tenant = Tenant.objects.select_for_update().get(tenant_key=tenant_key)
        applied = (
            feishu_time_ms is None
            or tenant.status_since_ms is None
            or feishu_time_ms >= tenant.status_since_ms
        )
        change = TenantStatusChange.objects.create(
            tenant=tenant,
            event_id=event_id,
            event_type=event_type,
            feishu_status=feishu_status,
            from_status=tenant.status,
            to_status=to_status,
            feishu_time_ms=feishu_time_ms,
            applied=applied,
        )
        if applied:
            installed = to_status == TenantStatus.INSTALLED and (
                event_type == "app_open" or tenant.status != TenantStatus.INSTALLED
            )
            uninstalled = to_status == TenantStatus.UNINSTALLED and tenant.status != TenantStatus.UNINSTALLED
            tenant.status = to_status
            if feishu_time_ms is not None:
                tenant.status_since_ms = feishu_time_ms
            tenant.updated_at = timezone.now()
            tenant.save(update_fields=["status", "status_since_ms", "updated_at"])
            if installed:
                from .naming import lookup_on_install  # the ingest server imports this module

                lookup_on_install(tenant_key)  # its company's name, asked of Feishu on commit
                tenant_installed.send(sender=Tenant, tenant_key=tenant_key)
            if uninstalled:
                tenant_uninstalled.send(sender=Tenant, tenant_key=tenant_key)
        return change
