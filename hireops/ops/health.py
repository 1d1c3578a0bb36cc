"""The platform's status checks: workers and their queues, beat and its schedules, every kind
of call to Feishu, Feishu's monthly quota and the rate limiter (see ``hireops.ops.status``)."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hireops import outbound
from hireops.core.admin.dashboard import capped_counts, changelist_url
from hireops.core.models import CallStatus

from . import status
from .heartbeat import STALE
from .models import ProcessHeartbeat, ProcessKind

# A schedule's last run is recorded by beat up to 3 minutes late (django-celery-beat saves
# its entries every 3 minutes), so a schedule is late past its due time plus this.
SCHEDULE_GRACE = timedelta(minutes=5)

# A call still unanswered this long needs a person: the engine's retries are 30 s to 8 min apart.
STUCK_AFTER = timedelta(minutes=30)
FAILED_WITHIN = timedelta(hours=24)  # an older failure was seen by then; its list still shows it


def _alive(kind: str):
    return ProcessHeartbeat.objects.filter(kind=kind, seen_at__gte=timezone.now() - STALE)


@status.check
def workers():
    alive = list(_alive(ProcessKind.WORKER).values_list("queues", flat=True))
    url = changelist_url(ProcessHeartbeat)
    yield status.Finding("workers.alive", _("Celery workers alive"), len(alive), bool(alive), url)
    consumed = {q for queues in alive for q in queues.split(",") if q}
    for queue in settings.CELERY_TASK_QUEUES:
        if alive and queue not in consumed:
            title = format_lazy(_("No worker consumes the queue “{queue}”"), queue=queue)
            yield status.Finding(f"workers.queue.{queue}", title, 0, False, url)


@status.check
def beat():
    from django_celery_beat.models import PeriodicTask

    from hireops.core.schedules.registry import schedules

    beats = _alive(ProcessKind.BEAT).order_by("started_at").values_list("started_at", flat=True)
    running_since = beats.first()
    alive = running_since is not None
    url = changelist_url(ProcessHeartbeat)
    yield status.Finding("beat.alive", _("Celery beat alive"), int(alive), alive, url)
    late = []
    # The declared schedules: beat runs no other row (hireops.core.schedules.beat).
    declared = [s.name for s in schedules()]
    rows = PeriodicTask.objects.filter(enabled=True, one_off=False, name__in=declared)
    for task in rows.select_related("interval", "crontab", "solar", "clocked"):
        since = task.last_run_at or task.date_changed
        if alive:
            # What fell due while no beat ran is that gap's finding (beat alive: 0), not
            # lateness: a beat that just started (a restart after a night off) catches up
            # within its first minutes, and is late only if it has not by then.
            since = max(since, running_since)
        overdue = -task.schedule.remaining_estimate(since)
        if overdue > SCHEDULE_GRACE:
            late.append(task.name)
    yield status.Finding(
        "beat.late",
        _("Schedules running late"),
        ", ".join(late) if late else 0,
        not late,
        changelist_url(PeriodicTask),
    )


@status.check
def calls_to_feishu():
    """Two findings for every kind of call the outbound engine sends, taken from its registry
    (a kind registered tomorrow is watched without a line here): its rows still waiting for
    Feishu after ``STUCK_AFTER``, and those that failed within ``FAILED_WITHIN``, as the kind's
    ``Watch`` defines them. Keyed by the kind's name (``<name>.stuck``, ``<name>.failed``),
    titled with its rows' name; all counted in one query."""
    now = timezone.now()
    kinds = outbound.kinds()
    counts = {}
    for kind in kinds:
        rows, watch = kind.model.objects, kind.watch
        waiting = rows.filter(watch.waiting, status=CallStatus.QUEUED)
        counts[f"{kind.name}.stuck"] = waiting.filter(**{f"{watch.waiting_since}__lt": now - STUCK_AFTER})
        failed = rows.filter(status=CallStatus.FAILED, finished_at__gte=now - FAILED_WITHIN)
        counts[f"{kind.name}.failed"] = failed.filter(watch.failures)
    counted = capped_counts(**counts)
    for kind in kinds:
        what = status.capfirst_lazy(kind.model._meta.verbose_name_plural)
        watch = kind.watch
        for condition, title, listed in (
            (
                "stuck",
                watch.stuck_title or _("{what}: waiting for Feishu for over 30 minutes"),
                CallStatus.QUEUED,
            ),
            ("failed", watch.failed_title or _("{what}: failed in the last 24 hours"), CallStatus.FAILED),
        ):
            key = f"{kind.name}.{condition}"
            n, url = counted[key], _list(kind.model, status__exact=listed)
            yield status.Finding(key, format_lazy(title, what=what), n, n == 0, url)


def _list(model, **filters) -> str:
    try:
        return changelist_url(model, **filters)
    except NoReverseMatch:  # a kind with no admin list: the finding still counts its rows
        return ""


@status.check
def feishu_quota():
    from hireops.feishu import get_client

    until = get_client().quota.stopped_until()
    if until:
        day = date_format(timezone.localtime(datetime.fromtimestamp(until, UTC)), "DATE_FORMAT")
        title = _("Calls to Feishu stopped: monthly quota used up until")
        yield status.Finding("feishu.quota", title, day, False)
    else:
        yield status.Finding("feishu.quota", _("Feishu's monthly call quota"), _("not exhausted"))


@status.check
def rate_limits():
    from . import pressure

    waited, met = pressure.rate_limits_this_hour()
    title = _("Waited for Feishu's rate limits this hour (s)")
    yield status.Finding("feishu.rate_limit_wait", title, f"{waited:.1f}")
    yield status.Finding("feishu.rate_limited", _("429 answers from Feishu this hour"), met)
