"""A catalogue change going out to every bound account it concerns, as a background job.

Staff's edits are committed first; a rollout then walks the bound accounts of the
catalogue's scope in primary-key order, compares what each account's Feishu has with what its
customer should get (computed once per customer), and queues a push where they differ. Edits
made while a rollout is queued join it (one waits per catalogue, started a few seconds after
the first edit); edits made while one runs queue the next. The cursor is saved with each
chunk, so a rollout whose worker died goes on where it stopped (``rollouts_resume``).
Progress: accounts looked at of the total, pushes queued, and those pushes' outcomes.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hireops.core.task_names import task_named

from .desired import desired
from .models import CatalogueRollout, CatalogueSync, RolloutStatus
from .pushes import bound_accounts, push_request

CHUNK = 500
START_AFTER = 5  # seconds: edits made together go out together
STALE = timedelta(minutes=2)


def rollout_request(catalogue: str, user=None) -> CatalogueRollout:
    """Queue a rollout of the catalogue (call inside the editing transaction), or join the
    one that waits."""
    try:
        with transaction.atomic():
            rollout = CatalogueRollout.objects.create(catalogue=catalogue, requested_by=user)
    except IntegrityError:
        return CatalogueRollout.objects.get(catalogue=catalogue, status=RolloutStatus.QUEUED)
    transaction.on_commit(lambda: start(rollout.pk, countdown=START_AFTER))
    return rollout


def start(pk: int, countdown: int = 0) -> None:
    run_rollout = task_named("orders.run_rollout")

    run_rollout.apply_async((pk,), countdown=countdown)


def rollout_run(pk: int) -> str:
    now = timezone.now()
    CatalogueRollout.objects.filter(pk=pk, status=RolloutStatus.QUEUED).update(
        status=RolloutStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        total=bound_accounts_count(pk),
    )
    if CatalogueRollout.objects.filter(pk=pk, status=RolloutStatus.DONE).exists():
        return RolloutStatus.DONE
    wanted_by_customer: dict[int, dict] = {}
    while _chunk(pk, wanted_by_customer):
        pass
    CatalogueRollout.objects.filter(pk=pk).update(status=RolloutStatus.DONE, finished_at=timezone.now())
    return RolloutStatus.DONE


def bound_accounts_count(pk: int) -> int:
    catalogue = CatalogueRollout.objects.values_list("catalogue", flat=True).get(pk=pk)
    return bound_accounts(catalogue).count()


def _chunk(pk: int, wanted_by_customer: dict) -> bool:
    """Look at the next accounts; False once every one was. A second run of the same rollout
    waits for this one's chunk (the row lock) and goes on after it."""
    with transaction.atomic():
        rollout = CatalogueRollout.objects.select_for_update().get(pk=pk)
        if rollout.status == RolloutStatus.DONE:
            return False
        accounts = list(
            bound_accounts(rollout.catalogue).filter(pk__gt=rollout.cursor).order_by("pk")[:CHUNK]
        )
        if not accounts:
            return False
        sent = dict(
            CatalogueSync.objects.filter(binding__in=accounts, catalogue=rollout.catalogue).values_list(
                "binding_id", "sent"
            )
        )
        queued = 0
        for account in accounts:
            if account.customer_id not in wanted_by_customer:
                wanted_by_customer[account.customer_id] = desired(rollout.catalogue, account.customer_id)
            wanted = wanted_by_customer[account.customer_id]
            if _differs(sent.get(account.pk), wanted):
                queued += (
                    push_request(account, rollout.catalogue, "changed", rollout.requested_by, rollout)
                    is not None
                )
        CatalogueRollout.objects.filter(pk=rollout.pk).update(
            cursor=accounts[-1].pk,
            considered=F("considered") + len(accounts),
            queued=F("queued") + queued,
            heartbeat_at=timezone.now(),
        )
    return True


def _differs(sent: dict | None, wanted: dict) -> bool:
    if sent is None:  # never pushed: only if there is something to send
        return any(wanted.values())
    return {k: sent.get(k, type(v)()) for k, v in wanted.items()} != wanted


def rollouts_resume() -> int:
    """Rollouts that stopped moving (worker lost, broker down when queued) start again."""
    stale = timezone.now() - STALE
    stuck = (
        CatalogueRollout.objects.exclude(status=RolloutStatus.DONE)
        .filter(requested_at__lt=stale)
        .exclude(heartbeat_at__gte=stale)
    )
    pks = list(stuck.values_list("pk", flat=True))
    for pk in pks:
        start(pk)
    return len(pks)
