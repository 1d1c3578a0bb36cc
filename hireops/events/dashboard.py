from django.utils.translation import gettext as _

from hireops.core import dashboard

from . import selectors
from .models import FeishuEvent


@dashboard.contribute
def failed_events(request):
    events = selectors.visible_events(request)
    if events is not None:
        url = dashboard.changelist_url(FeishuEvent, status__exact="failed")
        yield dashboard.Item(_("Failed events"), selectors.failed_count(events), url)
