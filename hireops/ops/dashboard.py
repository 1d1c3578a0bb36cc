"""The operations part of the dashboard: open incidents, for whoever may see the status."""

from django.utils.translation import gettext as _

from hireops.core import dashboard

from .models import AlertIncident


@dashboard.contribute
def operations(request):
    if request.user.has_perm("ops.view_status"):
        from .admin import status_url

        open_incidents = AlertIncident.objects.filter(resolved_at=None)
        label = _("Operations: open incidents (staff were alerted)")
        yield dashboard.Item(label, open_incidents, status_url())
