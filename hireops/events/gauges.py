"""The inbox's backlog as gauges for ``manage.py hireops_metrics`` (hireops.ops.collectors)."""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import EventStatus, FeishuEvent


def backlog():
    pending = FeishuEvent.objects.filter(status=EventStatus.PENDING)
    oldest = pending.order_by("received_at").values_list("received_at", flat=True).first()
    yield GaugeMetricFamily(
        "hireops_events_pending", "Events stored and not processed yet", value=pending.count()
    )
    yield GaugeMetricFamily(
        "hireops_events_oldest_pending_seconds",
        "Age of the oldest event waiting to be processed",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0,
    )
