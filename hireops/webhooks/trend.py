"""The operators' trend of the deliveries to partners' endpoints: each attempt per day, as it
came out (delivered, failed and tried again, failed for good), and the same per endpoint over
the period chosen.

The outbound engine counts the attempts itself (``RECEIVER.trend``, the delivery's endpoint as
the dimension), in the transaction that records each attempt on its delivery; the rollups are
recomputed from that record (``hireops.calls_made``). Whoever may open the deliveries sees the
figures; an endpoint is named (its description, or its URL's host: never its path or query,
which may hold a partner's token) only to whoever may open the endpoints, and is "Endpoint 1",
"Endpoint 2", … to anyone else.
"""

from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin
from django.http import HttpRequest
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hireops.calls_made import days, record
from hireops.core import trends
from hireops.core.trends import charts

from .delivery import TREND
from .models import WebhookDelivery, WebhookEndpoint

trends.register(record.trend(TREND))

ATTEMPTS, DELIVERED, RETRIED, FAILED = "attempts", "delivered", "retried", "failed"
Values = dict[str, defaultdict[object, int]]  # per series, per bar
OUTCOMES = {"succeeded": DELIVERED, "retried": RETRIED, "failed": FAILED, "gave_up": FAILED}


def _may_see(request: HttpRequest) -> bool:
    return admin.site.get_model_admin(WebhookDelivery).has_view_permission(request)


def _empty() -> Values:
    return {key: defaultdict(int) for key in (ATTEMPTS, DELIVERED, RETRIED, FAILED)}


def _add(values: Values, key: object, outcome: str, n: int) -> None:
    if outcome != "gave_up":  # not an attempt (never for a delivery: its judge ends its retries)
        values[ATTEMPTS][key] += n
    if outcome in OUTCOMES:
        values[OUTCOMES[outcome]][key] += n


def per_day(request: Any, period: charts.Period) -> charts.Figures | None:
    if not _may_see(request):
        return None
    values = _empty()
    for day, _endpoint, outcome, n in days.rows(request, TREND, period, None):
        _add(values, day, outcome, n)
    return charts.over_days(period, values)


def _numbered(n: int) -> str:
    return gettext("Endpoint %(n)s") % {"n": n}


def _removed() -> str:
    return gettext("Endpoints removed since")


# Translated when drawn: the figures are kept a minute whatever the reader's language.
_anonymous = lazy(_numbered, str)
_gone = lazy(_removed, str)


def _names(ids: list[str]) -> dict[str, str]:
    """Each endpoint's own name: its description, or its URL's host."""
    found = WebhookEndpoint.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()])
    return {
        str(pk): description or urlsplit(url).hostname or "?"
        for pk, description, url in found.values_list("pk", "description", "url")
    }


def per_endpoint(request: Any, period: charts.Period) -> charts.Figures | None:
    if not _may_see(request):
        return None
    values = _empty()
    for _day, endpoint, outcome, n in days.rows(request, TREND, period, None):
        _add(values, endpoint, outcome, n)
    ids = sorted((str(i) for i in values[ATTEMPTS]), key=lambda i: int(i) if i.isdigit() else 0)
    if admin.site.get_model_admin(WebhookEndpoint).has_view_permission(request):
        names = _names(ids)
        labels: list[object] = [names.get(i) for i in ids]  # None: removed since
    else:
        labels = [_anonymous(n) for n in range(1, len(ids) + 1)]
    # Endpoints removed since are one bar.
    order: list[object] = []
    summed = _empty()
    for endpoint_id, label in zip(ids, labels, strict=True):
        key = label if label is not None else _gone()
        if key not in order:
            order.append(key)
        for series, found in values.items():
            summed[series][key] += found[endpoint_id]
    return charts.Figures(order, {s: [found[k] for k in order] for s, found in summed.items()})


SERIES = (
    charts.Series(ATTEMPTS, _("Attempts"), "#417690"),
    charts.Series(DELIVERED, _("Delivered"), "#2e7d32", overlay=True),
    charts.Series(RETRIED, _("Failed, tried again"), "#e6a23c", overlay=True),
    charts.Series(FAILED, _("Failed for good"), "#ba2121", overlay=True),
)
charts.register(
    charts.Chart(
        name="webhook-deliveries-per-day",
        title=_("Webhook deliveries to partners per day"),
        description=_(
            "Bars: the attempts to deliver webhooks to partners' endpoints each day (a week's bars in a "
            "year); in green those delivered, in orange those that failed and were tried again, in red those "
            "that failed for good. The same figures are in the table below."
        ),
        unit=_("attempts"),
        bucket_label=_("day"),
        series=SERIES,
        figures=per_day,
    )
)
charts.register(
    charts.Chart(
        name="webhook-deliveries-per-endpoint",
        title=_("Webhook deliveries per partner endpoint, over the period"),
        description=_(
            "Bars: the attempts to deliver webhooks over the period chosen, one bar per endpoint; in green "
            "those delivered, in orange those that failed and were tried again, in red those that failed "
            "for good. The same figures are in the table below."
        ),
        unit=_("attempts"),
        bucket_label=_("endpoint"),
        series=SERIES,
        figures=per_endpoint,
    )
)
