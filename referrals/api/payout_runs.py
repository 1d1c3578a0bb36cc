"""Payout runs: listed by when they last changed, and one with its payroll lines, page by page
(the payroll file's rows). None is approved, released or paid here: that is the admin's, with
two people and the second factor."""

from django.db.models import Exists, OuterRef
from ninja import Query, Router

from hireops.api.pagination import PageParams, page
from hireops.api.problems import not_found
from hireops.api.schemas import Page
from hireops.api.site import operation, register

from ..models import PayoutLine, PayoutRun
from .schemas import PayoutRunDetailOut, PayoutRunFilters, PayoutRunOut, _limited, _rows, _run, _utc
from .scopes import PAYOUTS

router = Router(tags=["Referrals"])


def _runs(request):
    runs = PayoutRun.objects.select_related("prepared_by", "decided_by")
    keys = request.api_key.tenant_keys
    if keys:
        runs = runs.filter(Exists(PayoutLine.objects.filter(run=OuterRef("pk"), tenant_key__in=keys)))
    return runs


@operation(
    router.get,
    "/payout-runs",
    "listPayoutRuns",
    scope=PAYOUTS,
    summary="List payout runs",
    response=Page[PayoutRunOut],
)
def list_runs(request, filters: Query[PayoutRunFilters]):
    rows = _runs(request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=_utc(filters.updated_after))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.tenant is not None:
        if not request.api_key.allows_tenant(filters.tenant):
            rows = rows.none()  # which other tenants a run pays is theirs to know
        rows = rows.filter(Exists(PayoutLine.objects.filter(run=OuterRef("pk"), tenant_key=filters.tenant)))
    return page(rows, filters, serialize=lambda run: PayoutRunOut(**_run(run, request)))


def _lines_the_key_sees(lines, request):
    """A run's lines for the key: ``_limited``, with one tenant as a range of one value instead
    of an equality. With the tenant fixed by an equality, PostgreSQL reads the order (tenant,
    id) as the primary key's and, for a run holding most of the table's lines, walks that key
    past every earlier run's lines (24.7 ms at 1M); the range leaves it the run's index
    (run, tenant, id), which starts at the run's first line (0.3 ms; docs/benchmarks.md,
    Partner API lists). Equal strings are equal bytes under PostgreSQL's deterministic
    collations and SQLite's, so the range holds exactly the tenant's lines."""
    keys = request.api_key.tenant_keys
    if len(keys) == 1:
        return lines.filter(tenant_key__gte=keys[0], tenant_key__lte=keys[0])
    return _limited(lines, request)


@operation(
    router.get,
    "/payout-runs/{id}",
    "getPayoutRun",
    scope=PAYOUTS,
    summary="A payout run with its payroll lines, page by page",
    response=PayoutRunDetailOut,
)
def get_run(request, id: int, filters: Query[PageParams]):
    run = _runs(request).filter(pk=id).first()
    if run is None:
        raise not_found()
    lines = _lines_the_key_sees(run.lines.select_related("account"), request)
    found = page(lines, filters, order=(("tenant_key", str), ("id", int)), serialize=lambda line: line)
    for line in found["data"]:
        line.run = run  # the outcome reads the run's status: no query per line
    rows = [row for line in found["data"] for row in _rows(line)]
    return PayoutRunDetailOut(**_run(run, request), lines=rows, next_cursor=found["next_cursor"])


register(router)
