"""Reads of the vendor side worth naming (the dashboard's)."""

from datetime import timedelta

from django.utils import timezone

from hireops.core.models import CallStatus

from .models import BindingStatus, EcoAccountBinding, FieldPublish, FieldScope


def bindings_needing_review():
    return EcoAccountBinding.objects.filter(status=BindingStatus.NEEDS_REVIEW)


def scopes_with_unpublished_changes() -> list[tuple[FieldScope, list[str]]]:
    """Each scope some target tenant's Feishu is behind on, with those tenants."""
    from .publishing import behind_by_scope

    states = list(FieldScope.objects.all())
    behind = behind_by_scope(states)
    return [(state, behind[state.scope]) for state in states if behind[state.scope]]


def publishes_failed_or_waiting(days: int = 7):
    since = timezone.now() - timedelta(days=days)
    statuses = [CallStatus.QUEUED, CallStatus.FAILED]
    return FieldPublish.objects.filter(status__in=statuses, requested_at__gte=since)
