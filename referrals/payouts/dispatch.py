"""Feeding approved runs' lines to the workers at the pace of each tenant's withdrawal quota.

Feishu allows 100 withdrawals a minute per app and tenant (docs/feishu.md §4, §7.5). Queuing
every line of a 20,000-line run at once would have the workers wait on the client's rate
limiter for hours and fail with "reservation too far". Instead, every minute (and at once
after an approval) the dispatcher claims, per tenant, the lines one minute of that tenant's
quota can pay, and queues them interleaved across tenants, so the workers keep every tenant's
quota busy and no tenant waits behind another. A tenant never has more than a minute of quota
handed out, and the workers never hold more than ``PAYOUT_LINES_PER_TICK`` lines in all (what
they pay in a minute or two). When that bound is what held lines back, the workers set the
pace, not the quota: the dispatcher looks again ``PAYOUT_FOLLOW_UP_SECONDS`` later and tops them up, rather
than leaving them idle until the next minute (one such follow-up pending at a time; none once a
look finds the workers took nothing meanwhile, when the minute's tick carries on). A claim
lasts ``CLAIM``: the lines a killed worker or a lost task held are claimed again after it; the
engine's lease and the order id make sure a line is never paid twice meanwhile.
"""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from hireops import outbound
from hireops.core.models import CallStatus
from hireops.core.task_names import task_named
from hireops.feishu import get_client
from hireops.tenants.claims import claim_by_tenant
from hireops.tenants.gate import unavailable_tenant_keys

from . import announce, signals
from .models import PayoutLine, PayoutNews, PayoutRun, PayoutRunStatus
from .preparation import resume_preparations

ENDPOINT = "hire.referral_account.withdraw"
TICK = timedelta(minutes=1)
CLAIM = timedelta(minutes=5)
FOLLOW_UP_PENDING = "referrals:payout-dispatch:follow-up"


def seconds_per_line() -> float:
    """One tenant's pace: the spacing the client's limiter keeps between its withdrawals."""
    return get_client().limiter.interval(ENDPOINT)


def per_tick() -> int:
    return max(1, int(TICK.total_seconds() / seconds_per_line()))


def _due(now):
    return PayoutLine.objects.filter(
        Q(dispatched_until__isnull=True) | Q(dispatched_until__lt=now),
        Q(leased_until__isnull=True) | Q(leased_until__lt=now),
        status=CallStatus.QUEUED,
        run__status=PayoutRunStatus.PAYING,
    )


def claim_due(limit: int, most: int | None = None) -> list[int]:
    """Per tenant, up to ``limit`` lines at a time (counting those handed out and not done yet),
    interleaved tenant by tenant, and no more than ``most`` in the workers' hands in all: what
    they can take before the claims run out, so a claim expires only when its worker is gone."""
    return _claim(limit, most)[0]


def _claim(limit: int, most: int | None) -> tuple[list[int], bool]:
    """``claim_due``'s lines, and whether ``most`` held some back (the workers set the pace)."""
    now = timezone.now()
    most = settings.PAYOUT_LINES_PER_TICK if most is None else most
    stopped = set(unavailable_tenant_keys())
    with transaction.atomic():
        due = _due(now)
        out = dict(
            PayoutLine.objects.filter(status=CallStatus.QUEUED, dispatched_until__gte=now)
            .values_list("tenant_key")
            .annotate(n=Count("pk"))
            .order_by()
        )
        waiting = due.values_list("tenant_key").annotate(n=Count("pk")).order_by()
        room = {t: min(n, limit - out.get(t, 0)) for t, n in waiting if t not in stopped}
        free = max(0, most - sum(out.values()))
        pks = claim_by_tenant([due.order_by("run_id", "pk")], room, free)
        PayoutLine.objects.filter(pk__in=pks).update(dispatched_until=now + CLAIM)
    return pks, sum(n for n in room.values() if n > 0) > free


def payout_dispatch() -> int:
    """The scheduled tick: queue what one minute of every tenant's quota can pay (and take up
    again a run whose preparation stopped with its worker)."""
    pay_line = outbound.kind_named("referrals.pay_line")  # the lines' kind (payouts.payment)

    pks, held_back = _claim(per_tick(), None)
    pay_line.send_many(pks)  # interleaved across tenants: a batch's lines are of different tenants
    if held_back and pks:
        _follow_up()
    _finish_empty_runs()
    resume_preparations()
    return len(pks)


def _follow_up() -> None:
    """Another look once the workers have had ``PAYOUT_FOLLOW_UP_SECONDS`` to pay some of what
    they hold; the cache key keeps it to one pending look, whoever ticks meanwhile (beat, an
    approval)."""
    after = settings.PAYOUT_FOLLOW_UP_SECONDS
    if cache.add(FOLLOW_UP_PENDING, 1, timeout=after):
        task_named("referrals.payout_dispatch").apply_async(countdown=after)


def _finish_empty_runs() -> None:
    """A paying run with nothing left to pay (its last line closed while the run was being
    approved, say) is finished here too."""
    open_lines = PayoutLine.objects.filter(status=CallStatus.QUEUED, run__status=PayoutRunStatus.PAYING)
    empty = PayoutRun.objects.filter(status=PayoutRunStatus.PAYING).exclude(
        pk__in=open_lines.values("run_id")
    )
    for pk in empty.values_list("pk", flat=True):
        with transaction.atomic():
            finished = PayoutRun.objects.filter(pk=pk, status=PayoutRunStatus.PAYING).exclude(
                pk__in=open_lines.values("run_id")
            )
            if finished.update(
                status=PayoutRunStatus.FINISHED, finished_at=timezone.now(), updated_at=timezone.now()
            ):
                announce.payout_run("payout_run.paid", pk)
                signals.news(pk, PayoutNews.PAID)
