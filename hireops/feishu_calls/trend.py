"""The operators' trend of the calls to Feishu: every kind's calls per day, as they came out
(answered, failed and tried again, failed for good, given up after the retries), and the
same per kind over the period chosen.

The engine counts them itself (``hireops.outbound._count``, for every kind whose callee is
``FEISHU``), in the transaction that records each call on its row; the rollups are recomputed
from that record (``hireops.calls_made``). Each kind's calls are shown to whoever may open that
kind's rows (its changelist's own permission), under the rows' name.
"""

from collections import defaultdict

from django.apps import apps
from django.contrib import admin
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from hireops import outbound
from hireops.calls_made import days, record
from hireops.core import trends
from hireops.core.trends import charts

from .callee import FEISHU, TREND

trends.register(record.trend(TREND))

SENT, RETRIED, FAILED = "sent", "retried", "failed"
CALLED = ("succeeded", "retried", "failed")  # the outcomes of a call made (given up is none)
ENDED_FAILED = ("failed", "gave_up")


def _kinds(request) -> dict[str, outbound.AnyKind]:
    """The Feishu kinds whose rows the reader may open, by name."""
    return {
        kind.name: kind
        for kind in outbound.kinds()
        if kind.callee is FEISHU and admin.site.get_model_admin(kind.model).has_view_permission(request)
    }


def _add(values: dict[str, dict], key, outcome: str, n: int) -> None:
    if outcome in CALLED:
        values[SENT][key] += n
    if outcome == "retried":
        values[RETRIED][key] += n
    if outcome in ENDED_FAILED:
        values[FAILED][key] += n


def _empty() -> dict[str, dict]:
    return {SENT: defaultdict(int), RETRIED: defaultdict(int), FAILED: defaultdict(int)}


def per_day(request, period: charts.Period) -> charts.Figures | None:
    kinds = _kinds(request)
    if not kinds:
        return None
    values = _empty()
    for day, _kind, outcome, n in days.rows(request, TREND, period, sorted(kinds)):
        _add(values, day, outcome, n)
    return charts.over_days(period, values)


def per_kind(request, period: charts.Period) -> charts.Figures | None:
    kinds = _kinds(request)
    if not kinds:
        return None
    values = _empty()
    for _day, name, outcome, n in days.rows(request, TREND, period, sorted(kinds)):
        _add(values, name, outcome, n)
    names = sorted(kinds)
    listed = {key: [found[name] for name in names] for key, found in values.items()}
    return charts.Figures([_named(kinds[name].model._meta.label) for name in names], listed)


def _label(model: str) -> str:
    return str(capfirst(apps.get_model(model)._meta.verbose_name_plural))


# The rows' name, translated when drawn: the figures are kept a minute whatever the language
# (a lazy string of a module's function is kept as the function's name and its argument).
_named = lazy(_label, str)


SERIES = (
    charts.Series(SENT, _("Calls made"), "#417690"),
    charts.Series(RETRIED, _("Failed, tried again"), "#e6a23c", overlay=True),
    charts.Series(FAILED, _("Failed for good"), "#ba2121", overlay=True),
)
charts.register(
    charts.Chart(
        name="feishu-calls-per-day",
        title=_("Calls to Feishu per day"),
        description=_(
            "Bars: the calls made to Feishu each day, of every kind you may open (a week's bars in a "
            "year); in orange those that failed and were tried again, in red the calls whose work failed "
            "for good (refused, or given up after the retries). The same figures are in the table below."
        ),
        unit=_("calls"),
        bucket_label=_("day"),
        series=SERIES,
        figures=per_day,
    )
)
charts.register(
    charts.Chart(
        name="feishu-calls-per-kind",
        title=_("Calls to Feishu per kind, over the period"),
        description=_(
            "Bars: the calls made to Feishu over the period chosen, one bar per kind of call you may "
            "open; in orange those that failed and were tried again, in red those whose work failed for "
            "good. The same figures are in the table below."
        ),
        unit=_("calls"),
        bucket_label=_("kind of call"),
        series=SERIES,
        figures=per_kind,
    )
)
