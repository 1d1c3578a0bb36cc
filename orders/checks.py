"""The orders' settings, checked at start."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def purge_after_events_are_pruned(app_configs, **kwargs):
    """An order event's payload holds the candidate's data too: it must be pruned before the
    order's data is purged, or the purge leaves a copy behind."""
    if settings.FEISHU_EVENT_RETENTION_DAYS < settings.ORDER_PURGE_AFTER_DAYS:
        return []
    return [
        Warning(
            "FEISHU_EVENT_RETENTION_DAYS is not below ORDER_PURGE_AFTER_DAYS: stored order events keep "
            "candidates' data after the orders' purge.",
            hint="Keep events for fewer days than ORDER_PURGE_AFTER_DAYS.",
            id="orders.W001",
        )
    ]
