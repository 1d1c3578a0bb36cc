"""Running an operation over many items: inline for a few, as a background job for more.

Each item runs in its own transaction together with the record of its outcome: a job a
worker lost half-way resumes with the items still waiting, and none is done twice.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hireops.core.spreadsheets.uploads import row_refusal
from hireops.core.task_names import task_named

from .models import BulkJob, BulkJobItem, ItemStatus, JobStatus
from .operations import Operation, operation

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

RESUME_AFTER = timedelta(minutes=2)
# One run of a job works this long, then queues the rest: below the default soft time limit
# (CELERY_TASK_SOFT_TIME_LIMIT, 300 s) with room for the item in hand.
SLICE = timedelta(minutes=4)


@dataclass(frozen=True)
class Outcome:
    label: str
    ok: bool
    message: str


def runs_inline(count: int) -> bool:
    most: int = settings.BULK_INLINE_MAX
    return count <= most


# An item is a model instance, or, for an operation without a model (an import), its data.
def _attempt(op: Operation, target: Any, params: dict[str, Any], user: "User | None") -> tuple[bool, str]:
    """Run one item; (done?, message). A failure rolls back whatever the item wrote."""
    if op.model is None and row_refusal(target):  # an import's line that could not be read
        return False, row_refusal(target)
    try:
        with transaction.atomic():
            return True, op.run(target, params, user)
    except op.refusals as exc:
        return False, op.refusal_message(exc)[:500]
    except Exception:
        # No details on screen or in the log line beyond the type: they may hold personal data.
        log.exception("bulk %s: an item failed unexpectedly", op.kind)
        return False, _("Failed unexpectedly; the details are in the worker's log.")


def run_inline(
    op: Operation, targets: Iterable[Any], params: dict[str, Any], user: "User | None"
) -> list[Outcome]:
    """For a handful of rows: do them now, in the request."""
    return [Outcome(op.label(t), *_attempt(op, t, params, user)) for t in targets]


def jobs_start(
    op: Operation, targets: Iterable[Any], params: dict[str, Any], user: "User | None", *, language: str = ""
) -> list[BulkJob]:
    """One job per tenant of the targets (no job crosses tenants), each queued."""
    grouped = op.tenants(list(targets), params)
    return [
        job_start(op, rows, params, user, language=language, tenant_key=key) for key, rows in grouped.items()
    ]


def job_start(
    op: Operation,
    targets: Iterable[Any],
    params: dict[str, Any],
    user: "User | None",
    *,
    language: str = "",
    tenant_key: str = "",
) -> BulkJob:
    """Record a job with one item per target (a model instance, or an item's data for an
    operation without a model), all of ``tenant_key``, and queue it. Targets' labels are
    computed here, masked."""
    run_job = task_named("jobs.run")

    with transaction.atomic():
        job = BulkJob.objects.create(
            kind=op.kind,
            params=params,
            requested_by=user,
            language=language or translation.get_language(),
            tenant_key=tenant_key,
        )
        BulkJobItem.objects.bulk_create(
            BulkJobItem(
                job=job,
                position=i,
                object_id="" if op.model is None else str(t.pk),
                data=t if op.model is None else None,
                label=op.label(t)[:300],
            )
            for i, t in enumerate(targets, start=1)
        )
        transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_run(pk: int, slice_seconds: float | None = None) -> str:
    """Do the job's waiting items in order, for at most ``SLICE`` (shorter than the task's
    soft time limit), then queue the rest as a new run. Safe to run again, or twice at once."""
    deadline = time.monotonic() + (SLICE.total_seconds() if slice_seconds is None else slice_seconds)
    now = timezone.now()
    BulkJob.objects.filter(pk=pk, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING, started_at=now)
    job = BulkJob.objects.select_related("requested_by").get(pk=pk)
    if job.status == JobStatus.DONE:
        return job.status
    op = operation(job.kind)
    with translation.override(job.language or None):
        waiting = job.items.filter(status=ItemStatus.PENDING).order_by("position")
        for item_pk in waiting.values_list("pk", flat=True):
            _run_item(op, job, item_pk)
            if time.monotonic() > deadline:  # after an item: every run moves the job on
                run_job = task_named("jobs.run")

                run_job.delay(pk)  # the rest in a new run: no task outlives its time limit
                return JobStatus.RUNNING
    BulkJob.objects.filter(pk=pk).exclude(status=JobStatus.DONE).exclude(
        items__status=ItemStatus.PENDING
    ).update(status=JobStatus.DONE, finished_at=timezone.now())
    status: str = BulkJob.objects.values_list("status", flat=True).get(pk=pk)
    return status


def _run_item(op: Operation, job: BulkJob, item_pk: int) -> None:
    with transaction.atomic():
        # skip_locked: a second run of the same job leaves this item to the first.
        item = (
            BulkJobItem.objects.select_for_update(skip_locked=True)
            .filter(pk=item_pk, status=ItemStatus.PENDING)
            .first()
        )
        if item is None:
            return
        target = item.data if op.model is None else op.model.objects.filter(pk=item.object_id).first()
        if target is None:
            ok, message = False, _("It no longer exists.")
        else:
            ok, message = _attempt(op, target, job.params, job.requested_by)
        item.status = ItemStatus.SUCCEEDED if ok else ItemStatus.FAILED
        item.message = message[:500]
        item.finished_at = timezone.now()
        item.data = None  # an import row's personal data is not kept once it is done
        item.save(update_fields=["status", "message", "finished_at", "data"])


def jobs_without_progress(since: datetime) -> "QuerySet[BulkJob]":
    """Unfinished jobs with no sign of life since ``since``: not queued, started or an item
    finished after it."""
    return (
        BulkJob.objects.exclude(status=JobStatus.DONE)
        .annotate(
            last=Greatest(
                Coalesce("started_at", "requested_at"), Coalesce(Max("items__finished_at"), "requested_at")
            )
        )
        .filter(last__lt=since)
    )


def jobs_resume() -> int:
    """Queue again the jobs that stopped moving (worker lost, broker down when queued)."""
    run_job = task_named("jobs.run")

    pks = list(jobs_without_progress(timezone.now() - RESUME_AFTER).values_list("pk", flat=True))
    for pk in pks:
        run_job.delay(pk)
    return len(pks)


@dataclass(frozen=True)
class Progress:
    total: int
    succeeded: int
    failed: int

    @property
    def done(self) -> int:
        return self.succeeded + self.failed

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def _items(status: str | None = None) -> Coalesce:
    """Count a job's items (in the status): a subquery per job row, so a list counts the items
    of the jobs it shows only, through job_item_status_idx."""
    items = BulkJobItem.objects.filter(job=OuterRef("pk"))
    if status:
        items = items.filter(status=status)
    counted = items.order_by().values("job").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


PROGRESS = {
    "n_total": _items(),
    "n_succeeded": _items(ItemStatus.SUCCEEDED),
    "n_failed": _items(ItemStatus.FAILED),
}


def progress(job: BulkJob) -> Progress:
    """From a job annotated with PROGRESS (the admin list), or counted now."""
    if not hasattr(job, "n_total"):
        job = BulkJob.objects.annotate(**PROGRESS).get(pk=job.pk)
    return Progress(job.n_total, job.n_succeeded, job.n_failed)  # type: ignore[attr-defined]  # PROGRESS's
