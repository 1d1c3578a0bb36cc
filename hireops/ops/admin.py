"""The operations status page, the alert incidents and the process heartbeats."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hireops.core.admin import SystemRecordAdmin

from . import report
from .models import AlertIncident, ProcessHeartbeat

STATUS_PERMISSION = "ops.view_status"


@admin.register(AlertIncident)
class AlertIncidentAdmin(SystemRecordAdmin):
    list_display = ["title", "value", "opened_at", "resolved_at", "notified_at", "notify_attempts"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = [f.name for f in AlertIncident._meta.fields]
    change_list_template = "admin/ops/alertincident/change_list.html"

    def get_urls(self):
        status = self.admin_site.admin_view(self.status_view)
        return [path("status/", status, name="ops_status"), *super().get_urls()]

    def status_view(self, request):
        if not request.user.has_perm(STATUS_PERMISSION):
            raise PermissionDenied
        found = report.build()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Operations status"),
            "report": found,
            "problems": found.needing_a_person,
            "fine": [f for f in found.findings if f.ok],
            "processes": ProcessHeartbeat.objects.all(),
            "open_incidents": AlertIncident.objects.filter(resolved_at=None),
        }
        return TemplateResponse(request, "admin/ops/status.html", context)


@admin.register(ProcessHeartbeat)
class ProcessHeartbeatAdmin(SystemRecordAdmin):
    list_display = ["name", "kind", "queue_list", "link_state", "state_since", "started_at", "seen_at"]
    list_filter = ["kind"]

    @admin.display(description=gettext_lazy("queues"), ordering="queues")
    def queue_list(self, obj):
        return ", ".join(obj.queues.split(","))  # wraps in a narrow column

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def link_state(self, obj):
        return obj.state_text or "—"


def status_url() -> str:
    return reverse("admin:ops_status")
