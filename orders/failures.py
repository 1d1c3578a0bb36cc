"""Catalogue pushes and order writes that failed, per day: ``orders.failed`` counts the rows
closed as failed by the hour they closed in (``finished_at``: the failed rows' partial index),
dimension ``write`` or ``push``.

Marks: every close of a write or a push runs its kind's ``closed`` hook (``mark_closed``: a
failure marks its hour), the customer's cancellation closes queued writes unsent (the intake
marks it), "Send again" reopens a failed write (``mark_reopened``: the hour it no longer
counts in), and a row deleted (a binding's pushes go with it) marks its hour through a signal
before the deletion.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from django.apps import apps
from django.contrib import admin
from django.db.models import Model, QuerySet, Value, signals
from django.utils.translation import gettext_lazy as _

from hireops.core import trends
from hireops.core.models import CallStatus
from hireops.core.trends import charts

from .daily import FAILED, day_rows

METRIC = FAILED
# By name: the catalogue's pushes mark this trend (orders.catalogue.pushes imports this module).
KINDS = {"write": "orders.OrderWrite", "push": "orders.CataloguePush"}


def _model(kind: str) -> type[Model]:
    return apps.get_model(KINDS[kind])


def _failed(kind: str) -> Callable[[], QuerySet]:
    return lambda: _model(kind)._default_manager.filter(status=CallStatus.FAILED)


counts, counts_by_hour = trends.grouped(
    *(trends.Counted(_failed(kind), "finished_at", Value(kind), Value("")) for kind in KINDS)
)
trends.register(trends.Metric(METRIC, counts, count_hours=counts_by_hour))


def mark_closed(row) -> None:
    """A write or a push was closed (``outbound.close`` set its status): a failure counts."""
    if row.status == CallStatus.FAILED:
        trends.mark(METRIC, [row.finished_at])


def mark_failed(moment: datetime) -> None:
    trends.mark(METRIC, [moment])


def mark_reopened(finished_at: datetime | None) -> None:
    """A failed row queued again: its old hour counts one failure less."""
    trends.mark(METRIC, [finished_at])


def _deleting(sender, instance, **kwargs) -> None:
    if instance.status == CallStatus.FAILED:
        trends.mark(METRIC, [instance.finished_at])


for kind, name in KINDS.items():
    signals.pre_delete.connect(_deleting, sender=name, dispatch_uid=f"orders-failed-{kind}")


def _kinds(request) -> list[str]:
    return [k for k in KINDS if admin.site.get_model_admin(_model(k)).has_view_permission(request)]


def per_day(request, period: charts.Period) -> charts.Figures | None:
    kinds = _kinds(request)
    if not kinds:
        return None
    values: dict[str, dict] = {"write": defaultdict(int), "push": defaultdict(int)}
    for (metric, day, kind, _outcome), n in day_rows(request, period).items():
        if metric == METRIC and kind in kinds:
            values[kind][day] += n
    written, pushed = values["write"], values["push"]
    every = {day: written[day] + pushed[day] for day in written.keys() | pushed.keys()}
    return charts.over_days(period, {"all": every, "push": pushed})


charts.register(
    charts.Chart(
        name="orders-failed-calls",
        title=_("Order writes and catalogue pushes that failed"),
        description=_(
            "Bars: the order writes and catalogue pushes that failed for good each day (a week's bars in a "
            "year), by the day they were closed; the darker part the catalogue pushes. A write sent again "
            "no longer counts. The same figures are in the table below."
        ),
        unit=_("calls"),
        bucket_label=_("day"),
        series=(
            charts.Series("all", _("Failed"), "#ba2121"),
            charts.Series("push", _("of which catalogue pushes"), "#7a1616", overlay=True),
        ),
        figures=per_day,
    )
)
