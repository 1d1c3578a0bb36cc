"""Reads of the vendor side worth naming (the dashboard's)."""

from datetime import timedelta

from django.utils import timezone

from hireops.core.models import CallStatus

from .models import BindingStatus, EcoAccountBinding, FieldPublish, FieldScope


def bindings_needing_review():
    return EcoAccountBinding.objects.filter(status=BindingStatus.NEEDS_REVIEW)


def scopes_with_unpublished_changes() -> list[FieldScope]:
    return [state for state in FieldScope.objects.all() if state.has_unpublished_changes]


def publishes_failed_or_waiting(days: int = 7):
    since = timezone.now() - timedelta(days=days)
    statuses = [CallStatus.QUEUED, CallStatus.FAILED]
    return FieldPublish.objects.filter(status__in=statuses, requested_at__gte=since)
