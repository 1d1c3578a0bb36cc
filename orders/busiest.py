"""The ten busiest customers by month: the invoicing figures of the usage export
(``orders.usage``) kept as a rollup, ``orders.usage``: per customer (dimension, its id; empty
for orders not linked to one yet) the orders received (by ``received_at``) and those that ended
(by ``ended_at``: checks completed or canceled/terminated, exams scored), so a month's row of
a customer is its line of the usage export. Month rollups: the chart reads last month's (the
month the usage export invoices by default; a year holds a row per customer, figure and month,
too many to rank when a page opens) and ranks the customers in the database, naming the ten in the same
query only for readers who may open the customers; others read "customer #id".

Marks: the intake (an order received), the writes that end an order (``trend.mark_ended``), a
binding decided (its account's orders change customer, ``mark_linked``) and a customer deleted
(its orders lose it: a signal before the deletion).
"""

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import BigIntegerField, OuterRef, Q, Subquery, Sum, Value, signals
from django.db.models.functions import Cast, NullIf
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bindings.models import VendorCustomer
from hireops.core import trends
from hireops.core.trends import charts
from hireops.core.trends.models import Grain, TrendRollup

from .models import BackgroundCheck, CheckState, Exam
from .trend import USAGE, reader_kinds

RECEIVED, COMPLETED, ENDED_OTHERWISE = "received", "completed", "canceled"


def _customer_number(customer_id: str) -> str:
    return gettext("customer #%(id)s") % {"id": customer_id}


_numbered = lazy(_customer_number, str)


def _figures(start: datetime, end: datetime) -> Iterator[tuple[datetime, str, str]]:
    """(moment, customer id, figure) of each order received in [start, end) (at its receipt)
    and of each ending in it with a result or otherwise (at its end), from one query a kind:
    the orders received or ended in the range (two index ranges)."""
    within = Q(received_at__gte=start, received_at__lt=end) | Q(ended_at__gte=start, ended_at__lt=end)
    otherwise = (CheckState.CANCELED, CheckState.TERMINATED)
    for kind, model, outcome in (("check", BackgroundCheck, "state"), ("exam", Exam, "score")):
        rows = model._default_manager.filter(within).values_list(
            "received_at", "ended_at", "customer_id", outcome
        )
        for received, ended, customer_id, how in rows.order_by().iterator(chunk_size=2000):
            customer = str(customer_id or "")
            if start <= received < end:
                yield received, customer, f"{kind}.{RECEIVED}"
            if ended is None or not start <= ended < end:
                continue
            with_result = how == CheckState.COMPLETED if kind == "check" else how != ""  # an exam: scored
            if with_result:
                yield ended, customer, f"{kind}.{COMPLETED}"
            elif kind == "check" and how in otherwise:
                yield ended, customer, f"{kind}.{ENDED_OTHERWISE}"


# (customer id, figure, n) of an hour, and of a batch of hours by hour, by one rule.
counts, counts_by_hour = trends.placed(_figures)


trends.register(trends.Metric(USAGE, counts, monthly=True, count_hours=counts_by_hour))


def mark_linked(rows) -> None:
    """Orders (a queryset) about to change customer: the hours they count in, before the
    change (the same hours after it)."""
    moments: list[datetime | None] = []
    for received, ended in rows.values_list("received_at", "ended_at").iterator():
        moments += [received, ended]
    trends.mark(USAGE, moments)


def _customer_deleting(sender, instance, **kwargs) -> None:
    for model in (BackgroundCheck, Exam):
        mark_linked(model.objects.filter(customer=instance))


signals.pre_delete.connect(_customer_deleting, sender=VendorCustomer, dispatch_uid="orders-usage-customer")
SHOWN = 10


def busiest(request, period: charts.Period) -> charts.Figures | None:
    kinds = reader_kinds(request)
    if not kinds:
        return None
    # Last month, the one the usage export invoices by default: one month's rows (a row per
    # customer and figure) are what a dashboard can rank when it opens; a year's are not.
    last_month = trends.month_of(trends.month_of(timezone.now()) - timedelta(days=1))
    rows = TrendRollup.objects.filter(metric=USAGE, grain=Grain.MONTH, bucket=last_month)

    def figure(name: str) -> Sum:  # the kinds of order the reader may open
        return Sum("count", filter=Q(outcome__in=[f"{kind}.{name}" for kind in kinds]))

    ranked = (
        rows.order_by()
        .values("dimension")
        .annotate(received=figure(RECEIVED), completed=figure(COMPLETED), ended=figure(ENDED_OTHERWISE))
        .filter(Q(received__gt=0) | Q(completed__gt=0) | Q(ended__gt=0))
        .order_by("-received", "dimension")
    )
    if admin.site.get_model_admin(VendorCustomer).has_view_permission(request):
        # The ten's names in the same query (the dimension is the customer's id as text).
        customer = Cast(NullIf(OuterRef("dimension"), Value("")), BigIntegerField())
        ranked = ranked.annotate(name=Subquery(VendorCustomer.objects.filter(pk=customer).values("name")[:1]))
    top = list(ranked[:SHOWN])

    def label(found: Mapping[str, Any]) -> object:
        # Translated when drawn: the figures are kept whatever the reader's language.
        if not found["dimension"]:
            return _("not linked yet")
        return found.get("name") or _numbered(found["dimension"])

    return charts.Figures(
        [label(r) for r in top],
        {key: [r[key] or 0 for r in top] for key in ("received", "completed", "ended")},
    )


charts.register(
    charts.Chart(
        name="orders-busiest-customers",
        title=_("The ten busiest customers last month"),
        description=_(
            "Bars: the orders each customer sent last month (the usage export's figures, for "
            "invoicing), the ten with the most, whatever the period chosen; in green the orders that "
            "ended last month with a result or a score, in red those canceled or terminated. The same "
            "figures are in the table below."
        ),
        unit=_("orders"),
        bucket_label=_("customer"),
        series=(
            charts.Series("received", _("Received"), "#417690"),
            charts.Series("completed", _("Ended with a result"), "#2e7d32", overlay=True),
            charts.Series("ended", _("Canceled or terminated"), "#ba2121", overlay=True),
        ),
        figures=busiest,
    )
)
