from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from hireops.core import dashboard
from hireops.tenants.mode import store_app

from . import selectors
from .models import FeishuEvent

# Feishu pushes the app_ticket every hour; two missed pushes need a person.
TICKET_OVERDUE = timedelta(hours=2)


@dashboard.contribute
def failed_events(request):
    events = selectors.visible_events(request)
    if events is not None:
        url = dashboard.changelist_url(FeishuEvent, status__exact="failed")
        yield dashboard.Item(_("Failed events"), selectors.failed_count(events), url)


@dashboard.contribute
def app_ticket(request):
    """Store apps: without a recent app_ticket no token can be fetched, so every call waits."""
    if not store_app():
        return
    last = selectors.last_app_ticket_at()
    yield dashboard.Fact(_("Last app ticket from Feishu (pushed hourly)"), last or _("none yet"))
    if last is None or timezone.now() - last > TICKET_OVERDUE:
        yield dashboard.Item(
            _("No app ticket from Feishu for over 2 hours: calls to Feishu wait until one arrives"),
            1,
            dashboard.changelist_url(FeishuEvent, event_type="app_ticket")
            if dashboard.can_view(request.user, FeishuEvent)
            else "",
        )
