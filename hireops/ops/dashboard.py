"""The operations part of the dashboard: open incidents, for whoever may see the status."""

from django.utils.translation import gettext as _

from hireops.core.admin import dashboard

from .models import AlertIncident


@dashboard.contribute
def operations(request):
    if request.user.has_perm("ops.view_status"):
        from .admin import status_url

        open_incidents = AlertIncident.objects.filter(resolved_at=None)
        yield dashboard.Item(_("Operations: open incidents"), open_incidents, status_url())
        # Said apart, not in the label above: staff are told only where an alert channel
        # is configured and answered, so an open incident may have reached nobody.
        untold = open_incidents.filter(notified_at=None)
        yield dashboard.Item(_("Operations: open incidents nobody was told of"), untold, status_url())
