"""Preparing payout runs: which accounts a run pays, and writing one line per account.

A run records how its accounts were chosen (``selection``: a tenant, a minimum amount in a
currency; ``chosen_accounts``: rows ticked in the account list) and is prepared from that
record, so the work can happen after the request that asked for it:

- up to ``PAYOUT_PREPARE_INLINE_MAX`` payable accounts (2,000: well under a second), at once,
  in one transaction, while the person waits;
- more (200,000 accounts took about 35 s in a request) by a worker
  (``referrals.payout_prepare_lines``): the run is created *being prepared* and the worker
  writes its lines ``BATCH`` accounts at a time, in the order of their primary keys. Each batch
  is one short transaction that also moves the run's watermark (``prepared_through``, the last
  account looked at), its line count, totals and heartbeat, so the run's page shows the
  progress, and a worker killed half-way loses nothing: the dispatcher's tick (every minute)
  queues a run whose heartbeat stopped again, which carries on after the last committed batch.
  Two workers on one run take turns batch by batch (the run's row is locked), and an account
  has one line per run (a constraint). Nobody decides a run before it is prepared; cancelling
  it stops the worker at its next batch.

An account is in at most one open run: the accounts of every batch are locked and checked
again (``payable_accounts``) in the transaction that writes their lines.
"""

import time
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.core.schedules.registry import SetGoing
from hireops.core.task_names import task_named

from ..accounts.models import AccountCash, AccountStatus, ReferralAccount
from ..leavers import services as leavers
from ..withdrawals.models import Withdrawal
from . import announce, signals
from .amounts import BATCH, PayoutRefused, add_totals, cash_text, totals_json
from .models import PAYOUT_OPEN, PayoutLine, PayoutNews, PayoutRun, PayoutRunStatus

RESUME_AFTER = timedelta(minutes=2)  # a run being prepared with no batch for this long is queued again
SLICE = timedelta(minutes=4)  # one task's share of a large run, below its soft time limit
NOTHING_TO_PAY = gettext_noop(
    "No account to pay: none of them is active with cash and free of other payouts."
)


# --- which accounts ----------------------------------------------------------------------------


def payable_accounts():
    """Accounts a run may pay: registered, active, holding cash, in no other open run's unpaid
    lines and without a withdrawal in progress."""
    in_open_run = PayoutLine.objects.filter(
        account=OuterRef("pk"), status=CallStatus.QUEUED, run__status__in=PAYOUT_OPEN
    )
    withdrawing = Withdrawal.objects.filter(account=OuterRef("pk"), status=CallStatus.QUEUED)
    with_cash = AccountCash.objects.filter(account=OuterRef("pk"), amount__gt=0)
    return ReferralAccount.objects.filter(
        Exists(with_cash),
        ~Exists(in_open_run),
        ~Exists(withdrawing),
        status=AccountStatus.ACTIVE,
        account_id__isnull=False,
    )


def cash_promised(account: ReferralAccount) -> str | None:
    """Why the account may not withdraw now: its cash is promised to an open run's unpaid
    line, which one withdrawal would hold. Every withdrawal asks it first: the app registers it
    with the withdrawals' guards (``referrals.apps.PAYOUT_GUARD``, ``withdrawals.guards``)."""
    in_run = account.payout_lines.filter(status=CallStatus.QUEUED, run__status__in=PAYOUT_OPEN).first()
    if in_run is None:
        return None
    return _("%(account)s is in %(run)s, not yet paid: withdraw after the run, or reject it.") % {
        "account": account,
        "run": in_run.run,
    }


def select_accounts(*, tenant_key: str | None = None, currency: str = "", min_amount=None, pks=None):
    """The payable accounts a selection names: a tenant, a minimum cash amount in a currency,
    chosen rows; none of them: every account with cash."""
    accounts = payable_accounts()
    if tenant_key is not None:
        accounts = accounts.filter(tenant_key=tenant_key)
    if min_amount is not None:
        accounts = accounts.filter(
            Exists(
                AccountCash.objects.filter(account=OuterRef("pk"), currency=currency, amount__gte=min_amount)
            )
        )
    if pks is not None:
        accounts = accounts.filter(pk__in=pks)
    return accounts


def with_leavers(accounts):
    """Every run also pays the leavers waiting for one (``REFERRAL_LEAVER_POLICY=next_run``),
    whatever else it was chosen for: their cash is paid out, then their account deactivated."""
    return accounts | ReferralAccount.objects.filter(pk__in=leavers.awaiting_next_run())


def _run_accounts(selection: dict, chosen: list[int] | None):
    """The accounts a run of this selection pays now (its leavers included)."""
    accounts = select_accounts(
        tenant_key=selection.get("tenant_key"),
        currency=selection.get("currency", ""),
        min_amount=selection.get("min_amount"),
        pks=chosen,
    )
    return with_leavers(accounts).filter(pk__in=payable_accounts().values("pk"))


def _cash_of(account_pks: list[int]) -> dict[int, dict[str, str]]:
    cash: dict[int, dict[str, str]] = {}
    rows = AccountCash.objects.filter(account__in=account_pks, amount__gt=0).order_by("currency")
    for account_pk, currency, amount in rows.values_list("account_id", "currency", "amount"):
        cash.setdefault(account_pk, {})[currency] = str(amount)
    return cash


# --- writing the lines ---------------------------------------------------------------------------


def _write_lines(run: PayoutRun, chunk: list[tuple[int, str]]) -> tuple[int, dict[str, Decimal]]:
    """One line per account of ``chunk`` ((pk, tenant) of accounts locked by the caller) that
    holds cash, each with its own order id; how many, and their totals."""
    cash = _cash_of([pk for pk, _tenant in chunk])
    lines = [
        PayoutLine(
            run=run,
            account_id=pk,
            tenant_key=tenant,
            external_order_id=uuid.uuid4().hex,
            cash=cash[pk],
            requested_by_id=run.prepared_by_id,
        )
        for pk, tenant in chunk
        if cash.get(pk)
    ]
    PayoutLine.objects.bulk_create(lines, batch_size=BATCH)
    totals: dict[str, Decimal] = {}
    for line in lines:
        add_totals(totals, line.cash)
    return len(lines), totals


def _locked(accounts, limit: int | None = None) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The first ``limit`` of ``accounts``, locked ((pk, tenant) each), and those of them still
    payable once locked.

    The lock makes a second preparation, or a withdrawal (which locks the account before its
    guards are asked), wait for the first to commit. What it committed is seen only by a
    statement started after the wait: the locking one kept its snapshot and would still find
    the account free. So the locked accounts are asked again, in a statement of their own."""
    locking = accounts.order_by("pk").select_for_update(of=("self",)).values_list("pk", "tenant_key")
    locked = list(locking if limit is None else locking[:limit])
    still = set(payable_accounts().filter(pk__in=[pk for pk, _tenant in locked]).values_list("pk", flat=True))
    return locked, [(pk, tenant) for pk, tenant in locked if pk in still]


def _ready(run: PayoutRun) -> None:
    """Prepared: it waits for a colleague's decision, and the approvers are told."""
    payout_notify = task_named("referrals.payout_notify")

    with transaction.atomic():
        PayoutRun.objects.filter(pk=run.pk).update(
            status=PayoutRunStatus.AWAITING_APPROVAL, heartbeat_at=None, updated_at=timezone.now()
        )
        announce.payout_run("payout_run.awaiting_approval", run.pk)
        signals.news(run.pk, PayoutNews.AWAITING)
    transaction.on_commit(lambda: payout_notify.delay(run.pk))


# --- preparing ------------------------------------------------------------------------------------


def payout_prepare(
    user=None,
    *,
    tenant_key: str | None = None,
    currency: str = "",
    min_amount=None,
    pks: list[int] | None = None,
    title: str = "",
    set_going: SetGoing | None = None,
) -> PayoutRun:
    """A run of the payable accounts the selection names (``select_accounts``' arguments),
    each line with the cash its account holds. ``user`` prepared it; ``set_going``: its schedule
    prepared it, and these are the hands that were on the schedule. Waiting for approval when
    it returns, or, past ``PAYOUT_PREPARE_INLINE_MAX`` accounts, *being prepared* by a worker.
    Raises ``PayoutRefused`` when there is nothing to pay."""
    payout_prepare_lines = task_named("referrals.payout_prepare_lines")

    selection: dict[str, object] = {"tenant_key": tenant_key, "currency": currency}
    if min_amount is not None:
        selection["min_amount"] = str(min_amount)
    if pks is not None:
        selection["chosen_accounts"] = len(pks)
    accounts = _run_accounts(selection, pks)
    # Counted no further than the inline limit: the request never counts 200,000 accounts (the
    # worker does, first thing).
    inline_max = settings.PAYOUT_PREPARE_INLINE_MAX
    counted = accounts.order_by().values("pk")[: inline_max + 1].count()
    if not counted:
        raise PayoutRefused(_(NOTHING_TO_PAY))
    hands = set_going or SetGoing()
    later = counted > inline_max
    with transaction.atomic():
        run = PayoutRun.objects.create(
            title=title,
            status=PayoutRunStatus.PREPARING,
            prepared_by=user,
            selection=selection,
            chosen_accounts=pks,
            expected_lines=None if later else counted,
            heartbeat_at=timezone.now(),
            scheduled=set_going is not None,
            run_now_by_id=hands.run_now_by_id,
            schedule_changed_by_id=hands.changed_by_id,
            schedule_changed_at=hands.changed_at,
        )
        if later:
            transaction.on_commit(lambda: payout_prepare_lines.delay(run.pk))
        else:
            _locked_accounts, payable = _locked(accounts)
            count, totals = _write_lines(run, payable)
            if not count:  # taken by another run meanwhile
                raise PayoutRefused(_(NOTHING_TO_PAY))
            PayoutRun.objects.filter(pk=run.pk).update(
                totals=totals_json(totals), line_count=count, updated_at=timezone.now()
            )
            _ready(run)
    run.refresh_from_db()
    return run


def _fresh_statistics() -> None:
    """A large run's lines were just written: the planner learns of them now, not at
    autovacuum's next pass (until then it took a run of 200,000 lines for 92 rows, and a page
    of its lines for a sort of all of them: 440 ms instead of 20, bench/api_lists.py)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(PayoutLine._meta.db_table)}")


def _next_batch(run_pk: int) -> bool:
    """Write the lines of the next ``BATCH`` accounts after the run's watermark; False once
    the run is prepared (or no longer being prepared)."""
    with transaction.atomic():
        run = PayoutRun.objects.select_for_update().get(pk=run_pk)
        if run.status != PayoutRunStatus.PREPARING:
            return False
        accounts = _run_accounts(run.selection, run.chosen_accounts)
        if run.expected_lines is None:  # the first batch: how many there are, for the progress
            PayoutRun.objects.filter(pk=run.pk).update(
                expected_lines=accounts.count(), updated_at=timezone.now()
            )
        locked, chunk = _locked(accounts.filter(pk__gt=run.prepared_through or 0), BATCH)
        if not locked:
            if run.line_count:
                _ready(run)
                transaction.on_commit(_fresh_statistics)
            else:  # every account was taken or emptied meanwhile
                PayoutRun.objects.filter(pk=run.pk).update(
                    status=PayoutRunStatus.CANCELLED,
                    reason=Message(NOTHING_TO_PAY),
                    finished_at=timezone.now(),
                    updated_at=timezone.now(),
                )
            return False
        count, added = _write_lines(run, chunk)
        totals = {currency: Decimal(amount) for currency, amount in run.totals.items()}
        for currency, amount in added.items():
            totals[currency] = totals.get(currency, Decimal(0)) + amount
        PayoutRun.objects.filter(pk=run.pk).update(
            prepared_through=locked[-1][0],  # past the accounts taken meanwhile too
            line_count=F("line_count") + count,
            totals=totals_json(totals),
            heartbeat_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return True


def payout_prepare_lines(run_pk: int, slice_seconds: float | None = None) -> str:
    """The worker's part of a large run: batches until it is prepared, for at most ``SLICE``
    (then the rest in a new task: none outlives its time limit). Safe to run again, or twice."""
    task = task_named("referrals.payout_prepare_lines")

    deadline = time.monotonic() + (SLICE.total_seconds() if slice_seconds is None else slice_seconds)
    while _next_batch(run_pk):
        if time.monotonic() > deadline:
            task.delay(run_pk)
            break
    return PayoutRun.objects.values_list("status", flat=True).get(pk=run_pk)


def resume_preparations() -> list[int]:
    """Runs being prepared whose worker stopped (no batch for ``RESUME_AFTER``): queued again
    (from the dispatcher's tick, every minute)."""
    payout_prepare_lines = task_named("referrals.payout_prepare_lines")

    stalled = PayoutRun.objects.filter(
        status=PayoutRunStatus.PREPARING, heartbeat_at__lt=timezone.now() - RESUME_AFTER
    )
    pks = list(stalled.values_list("pk", flat=True)[:100])
    for pk in pks:
        PayoutRun.objects.filter(pk=pk).update(heartbeat_at=timezone.now())  # one resume per stall
        payout_prepare_lines.delay(pk)
    return pks


def payout_prepare_scheduled(set_going: SetGoing) -> int | None:
    """Every account with cash, prepared by the schedule: decided by any approver whose hands
    were not on the schedule (``set_going``)."""
    try:
        run = payout_prepare(None, set_going=set_going)
    except PayoutRefused:
        return None  # nothing to pay this time
    return run.pk


def preview(accounts, lines: int = 200) -> dict:
    """What a run of these accounts would pay now: how many, the totals per currency, the first lines."""
    payable = with_leavers(accounts).filter(pk__in=payable_accounts().values("pk"))
    held = AccountCash.objects.filter(account__in=payable.values("pk"), amount__gt=0)
    totals = {
        r["currency"]: r["total"]
        for r in held.values("currency").annotate(total=Sum("amount")).order_by("currency")
    }
    first = list(payable.order_by("pk")[:lines])
    cash = _cash_of([a.pk for a in first])
    return {
        "count": payable.count(),
        "totals": cash_text(totals_json(totals)),
        "lines": [(a, cash_text(cash.get(a.pk))) for a in first],
    }
