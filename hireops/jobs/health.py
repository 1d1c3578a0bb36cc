"""Background jobs that stopped moving (hireops.ops.status)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.admin.dashboard import changelist_url
from hireops.ops import status

from .exports import exports_without_progress
from .models import BulkJob, ExportJob, ExportStatus, JobStatus
from .services import jobs_without_progress

# A running job finishes an item every few seconds, and jobs.resume queues a lost one again
# within minutes: this long without progress needs a person.
STALLED_AFTER = timedelta(minutes=15)


@status.check
def stalled_jobs():
    stalled = jobs_without_progress(timezone.now() - STALLED_AFTER).count()
    yield status.Finding(
        "jobs.stalled",
        _("Background jobs without progress for 15 minutes"),
        stalled,
        stalled == 0,
        changelist_url(BulkJob, status__exact=JobStatus.RUNNING),
    )


@status.check
def stalled_exports():
    # A run beats every second while it writes and jobs.resume takes over a silent one within
    # minutes: an export this long silent (or failed over and over) needs a person.
    stalled = exports_without_progress(timezone.now() - STALLED_AFTER).count()
    yield status.Finding(
        "jobs.exports_stalled",
        _("Exports without progress for 15 minutes"),
        stalled,
        stalled == 0,
        changelist_url(ExportJob, status__exact=ExportStatus.RUNNING),
    )
