"""Forgetting events (with their deliveries and attempts) ``WEBHOOK_KEEP_DAYS`` after they
happened, in batches, as the event log is pruned. An event still being delivered is kept."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from hireops.core.models import CallStatus

from .models import WebhookDelivery, WebhookEvent

BATCH = 2000


def prune(batch: int = BATCH) -> int:
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    pending = WebhookDelivery.objects.filter(event=OuterRef("pk"), status=CallStatus.QUEUED)
    removed = 0
    while True:
        pks = list(
            WebhookEvent.objects.filter(created_at__lt=cutoff)
            .exclude(Exists(pending))
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not pks:
            return removed
        WebhookEvent.objects.filter(pk__in=pks).delete()
        removed += len(pks)
