from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from hireops.core.admin import dashboard
from hireops.tenants.mode import store_app

from . import selectors
from .models import FeishuEvent

# Feishu pushes the app_ticket every hour; two missed pushes need a person.
TICKET_OVERDUE = timedelta(hours=2)


def ticket_missing(last) -> bool:
    """No app ticket yet, or none for longer than two missed pushes."""
    return last is None or timezone.now() - last > TICKET_OVERDUE


@dashboard.contribute
def events_work(request):
    """Failed events, and (store apps) the last app ticket: one query."""
    events = selectors.visible_events(request)
    counts = {"failed": selectors.failed(events)} if events is not None else {}
    values = {"ticket": selectors.last_app_ticket()} if store_app() else {}
    found = dashboard.figures(counts=counts, values=values)
    if "failed" in found:
        url = dashboard.changelist_url(FeishuEvent, status__exact="failed")
        yield dashboard.Item(_("Failed events"), found["failed"], url, per_tenant=counts["failed"])
    if "ticket" in found:
        yield from app_ticket(request, found["ticket"])


def app_ticket(request, last):
    """Store apps: without a recent app_ticket no token can be fetched, so every call waits."""
    yield dashboard.Fact(_("Last app ticket from Feishu (pushed hourly)"), last or _("none yet"))
    if ticket_missing(last):
        yield dashboard.Item(
            _("No app ticket from Feishu for over 2 hours: calls to Feishu wait until one arrives"),
            1,
            dashboard.changelist_url(FeishuEvent, event_type="app_ticket")
            if dashboard.can_view(request.user, FeishuEvent)
            else "",
        )
