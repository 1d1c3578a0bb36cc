from django.contrib import admin
from django.utils.translation import gettext as _

from hireops.core.admin import dashboard

from .models import BulkJob, JobStatus


@dashboard.contribute
def unfinished_jobs(request):
    jobs = admin.site.get_model_admin(BulkJob)
    if jobs.has_view_permission(request):
        n = jobs.get_queryset(request).exclude(status=JobStatus.DONE).count()
        yield dashboard.Item(_("Background jobs queued or running"), n, dashboard.changelist_url(BulkJob))
