"""The operators' trend of the partner API's requests: per day, as they were answered
(answered, refused: 4xx including the rate limit's 429 and a missing or unknown key, failed:
5xx), and the same per key over the period chosen, from the hourly counts of
``hireops.api.counting``.

Whoever may open the keys, or the status page, sees the figures; a key is named (its name and
the prefix the keys' list shows) only to whoever may open the keys, and is "Key 1", "Key 2", …
to anyone else. Requests with no usable key are one bar, whatever they presented.
"""

from collections import defaultdict
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hireops.calls_made import days
from hireops.core.trends import charts

from . import counting
from .models import ApiKey

REQUESTS = "requests"
Values = dict[str, defaultdict[object, int]]  # per series, per bar


def _may_open_keys(request: HttpRequest) -> bool:
    return admin.site.get_model_admin(ApiKey).has_view_permission(request)


def _may_see(request: HttpRequest) -> bool:
    return _may_open_keys(request) or request.user.has_perm("ops.view_status")


def _empty() -> Values:
    return {key: defaultdict(int) for key in (REQUESTS, counting.REFUSED, counting.FAILED)}


def _add(values: Values, key: object, outcome: str, n: int) -> None:
    values[REQUESTS][key] += n
    if outcome in values:
        values[outcome][key] += n


def per_day(request: Any, period: charts.Period) -> charts.Figures | None:
    if not _may_see(request):
        return None
    values = _empty()
    for day, _key, outcome, n in days.rows(request, counting.METRIC, period, None):
        _add(values, day, outcome, n)
    return charts.over_days(period, values)


def _numbered(n: int) -> str:
    return gettext("Key %(n)s") % {"n": n}


def _no_key() -> str:
    return gettext("No key, or an unknown one")


def _removed() -> str:
    return gettext("Keys deleted since")


# Translated when drawn: the figures are kept a minute whatever the reader's language.
_anonymous = lazy(_numbered, str)
_keyless = lazy(_no_key, str)
_gone = lazy(_removed, str)


def per_key(request: Any, period: charts.Period) -> charts.Figures | None:
    if not _may_see(request):
        return None
    values = _empty()
    for _day, prefix, outcome, n in days.rows(request, counting.METRIC, period, None):
        _add(values, prefix, outcome, n)
    prefixes = sorted(str(p) for p in values[REQUESTS] if p != counting.NO_KEY)
    if _may_open_keys(request):
        found = ApiKey.objects.filter(prefix__in=prefixes).values_list("prefix", "name")
        names = {prefix: f"{name} ({prefix}…)" for prefix, name in found}
        labels: list[object] = [names.get(p) or _gone() for p in prefixes]
    else:
        labels = [_anonymous(n) for n in range(1, len(prefixes) + 1)]
    order: list[object] = []
    summed = _empty()
    bars: list[tuple[str, object]] = [*zip(prefixes, labels, strict=True), (counting.NO_KEY, _keyless())]
    for prefix, label in bars:
        if prefix == counting.NO_KEY and not values[REQUESTS].get(prefix):
            continue
        if label not in order:
            order.append(label)
        for series, counts in values.items():
            summed[series][label] += counts[prefix]
    return charts.Figures(order, {s: [counts[k] for k in order] for s, counts in summed.items()})


SERIES = (
    charts.Series(REQUESTS, _("Requests"), "#417690"),
    charts.Series(counting.REFUSED, _("Refused (4xx)"), "#e6a23c", overlay=True),
    charts.Series(counting.FAILED, _("Failed (5xx)"), "#ba2121", overlay=True),
)
charts.register(
    charts.Chart(
        name="api-requests-per-day",
        title=_("Partner API requests per day"),
        description=_(
            "Bars: the requests to the partner API each day, with every key and without one (a week's bars "
            "in a year); in orange those refused (a missing or unknown key, a scope, the rate limit, a "
            "request in error), in red those that failed on our side. Counted once each hour is over. "
            "The same figures are in the table below."
        ),
        unit=_("requests"),
        bucket_label=_("day"),
        series=SERIES,
        figures=per_day,
    )
)
charts.register(
    charts.Chart(
        name="api-requests-per-key",
        title=_("Partner API requests per key, over the period"),
        description=_(
            "Bars: the requests to the partner API over the period chosen, one bar per key and one for "
            "those with no key or an unknown one; in orange those refused, in red those that failed on our "
            "side. The same figures are in the table below."
        ),
        unit=_("requests"),
        bucket_label=_("API key"),
        series=SERIES,
        figures=per_key,
    )
)
