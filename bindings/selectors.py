"""Reads of the vendor side worth naming: the dashboard's, and what publishing and the admin
ask of custom fields (which tenants are targets, which are behind, what a tenant is sent).
Writes live in the services (``publishing``, ``matching``)."""

from datetime import timedelta

from django.utils import timezone

from hireops.core.models import CallStatus
from hireops.tenants.mode import store_app
from hireops.tenants.models import Tenant, TenantStatus

from .models import (
    BindingStatus,
    CustomFieldDefinition,
    EcoAccountBinding,
    FieldPublish,
    FieldScope,
    TenantFieldScope,
)


def bindings_needing_review():
    return EcoAccountBinding.objects.filter(status=BindingStatus.NEEDS_REVIEW)


def scopes_with_unpublished_changes() -> list[tuple[FieldScope, list[str]]]:
    """Each scope some target tenant's Feishu is behind on, with those tenants."""
    states = list(FieldScope.objects.all())
    behind = behind_by_scope(states)
    return [(state, behind[state.scope]) for state in states if behind[state.scope]]


def publishes_failed_or_waiting(days: int = 7):
    since = timezone.now() - timedelta(days=days)
    statuses = [CallStatus.QUEUED, CallStatus.FAILED]
    return FieldPublish.objects.filter(status__in=statuses, requested_at__gte=since)


def publish_targets() -> list[str]:
    """The tenants whose Feishu shows our fields: a store app's installed tenants, or a
    self-built app's own ("")."""
    if not store_app():
        return [""]
    installed = Tenant.objects.filter(status=TenantStatus.INSTALLED).order_by("tenant_key")
    return list(installed.values_list("tenant_key", flat=True))


def tenants_behind(state: FieldScope) -> list[str]:
    """The target tenants whose Feishu has not accepted the scope's current revision."""
    return behind_by_scope([state])[state.scope]


def behind_by_scope(states: list[FieldScope]) -> dict[int, list[str]]:
    """``tenants_behind`` for several scopes, in one query (two for a store app). A tenant
    needs the last shared edit and the last edit of its own fields."""
    behind: dict[int, list[str]] = {state.scope: [] for state in states}
    edited = [state for state in states if state.revision]  # never defined: nobody is behind
    if not edited:
        return behind
    targets = publish_targets()
    known = dict.fromkeys(((s.scope, t) for s in edited for t in targets), (0, 0))
    rows = TenantFieldScope.objects.filter(scope__in=[s.scope for s in edited], tenant_key__in=targets)
    for scope, tenant_key, published, own in rows.values_list(
        "scope", "tenant_key", "published_revision", "own_revision"
    ):
        known[(scope, tenant_key)] = (published, own)
    for state in edited:
        behind[state.scope] = sorted(
            t
            for t in targets
            if known[(state.scope, t)][0] < max(state.shared_revision, known[(state.scope, t)][1])
        )
    return behind


def fields_for(scope: int, tenant_key: str) -> list[CustomFieldDefinition]:
    """What one tenant's Feishu is sent: the shared fields, each replaced by the tenant's own
    of the same key (an inactive one of its own removes it), and its own extra fields."""
    chosen = {}
    definitions = CustomFieldDefinition.objects.filter(scope=scope, tenant_key__in={"", tenant_key})
    for definition in definitions.order_by("tenant_key"):  # shared first, its own replace them
        chosen[definition.key] = definition
    active = (d for d in chosen.values() if d.is_active)
    return sorted(active, key=lambda d: (d.display_order, d.key))
