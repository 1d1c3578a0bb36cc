"""Background jobs' remaining items as a gauge for ``manage.py hireops_metrics``."""

from prometheus_client.core import GaugeMetricFamily

from .models import BulkJobItem, ItemStatus, JobStatus


def remaining():
    left = BulkJobItem.objects.filter(status=ItemStatus.PENDING).exclude(job__status=JobStatus.DONE).count()
    yield GaugeMetricFamily(
        "hireops_job_items_remaining", "Items of unfinished background jobs not done yet", value=left
    )
