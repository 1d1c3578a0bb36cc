"""The schedules (django-celery-beat's periodic tasks): declared by the apps, in code.

Each app declares its schedules from its ``AppConfig.ready()``::

    from django.utils.translation import gettext_noop
    from hireops.core.schedules.registry import register_schedule

    register_schedule(
        gettext_noop("Exams: remind the candidates"),  # the row's name; staff read it translated
        task="exams.remind",
        every=(10, "minutes"),  # or crontab="30 2 * * *" (minute hour day-of-month month weekday)
        managed_with="exams.manage_schedules",
    )

The code owns what a schedule runs: its name, task, arguments and routing. Staff own when it
runs: whether it is enabled, and its timing (an interval or a crontab), which they change in
the admin. After every migrate ``sync_schedules`` creates a declared schedule that is missing
(enabled, with the declared timing), adopts the row an earlier release created (by its name,
or by its task when staff renamed it) and puts back on it what the code owns; it never changes
enabled or the timing of a row that exists, and removes nothing.

Who sees and manages a schedule: whoever holds its ``managed_with`` permission (switch it on
and off, change its timing, run it now). The model's own permissions show and manage every
schedule: ``django_celery_beat.view_periodictask`` (the Auditor's) and ``…change_periodictask``;
a schedule declared without ``managed_with`` is the platform's, for those only (superusers).
"""

import json
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    import datetime

VIEW_ALL = "django_celery_beat.view_periodictask"
MANAGE_ALL = "django_celery_beat.change_periodictask"
PERIODS = ("days", "hours", "minutes", "seconds")
CRONTAB_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
# Change-history messages (hireops.core.audit), on the schedule, translated when read.
ENABLED = gettext_noop("Schedule enabled.")
DISABLED = gettext_noop("Schedule disabled.")
RUN = gettext_noop("Run now requested.")


@dataclass(frozen=True)
class Schedule:
    name: str  # the PeriodicTask's name, unique: an English msgid (gettext_noop)
    task: str
    managed_with: str = MANAGE_ALL  # "app_label.codename"
    every: tuple[int, str] | None = None  # (5, "minutes")
    crontab: str | None = None  # "30 2 * * *"
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    enabled: bool = True  # as first created; staff switch it afterwards

    @property
    def app_label(self) -> str:
        return self.managed_with.split(".", 1)[0]

    def crontab_fields(self) -> dict[str, str]:
        """``"30 2 * * *"`` → {"minute": "30", "hour": "2", ...}."""
        return dict(zip(CRONTAB_FIELDS, (self.crontab or "").split(), strict=True))


_declared: list[Schedule] = []


def register_schedule(
    name: str,
    *,
    task: str,
    managed_with: str = MANAGE_ALL,
    every: tuple[int, str] | None = None,
    crontab: str | None = None,
    args: tuple = (),
    kwargs: dict | None = None,
    enabled: bool = True,
) -> Schedule:
    """Declare a schedule (from ``ready()``; declaring the same one again is harmless). The
    system checks refuse to start when two declarations share a name, a task is unknown, the
    timing is not exactly one valid interval or crontab, or the permission names no model's."""
    schedule = Schedule(name, task, managed_with, every, crontab, tuple(args), dict(kwargs or {}), enabled)
    if schedule not in _declared:
        _declared.append(schedule)
    return schedule


def schedules() -> list[Schedule]:
    return list(_declared)


def declared(name: str) -> Schedule | None:
    return next((s for s in _declared if s.name == name), None)


# --- who may do what ---------------------------------------------------------------------


def may_view_any(user) -> bool:
    return user.has_perm(VIEW_ALL) or may_manage_any(user)


def may_manage_any(user) -> bool:
    return user.has_perm(MANAGE_ALL) or any(user.has_perm(s.managed_with) for s in _declared)


def may_view(user, row) -> bool:
    return user.has_perm(VIEW_ALL) or may_manage(user, row)


def may_manage(user, row) -> bool:
    """A row no app declares (left by an older release or made by hand) is the platform's."""
    schedule = declared(row.name)
    return user.has_perm(MANAGE_ALL) or (schedule is not None and user.has_perm(schedule.managed_with))


def visible_names(user) -> list[str] | None:
    """The names of the schedules ``user`` sees; None for every row."""
    if user.has_perm(VIEW_ALL) or user.has_perm(MANAGE_ALL):
        return None
    return [s.name for s in _declared if user.has_perm(s.managed_with)]


# --- the rows ----------------------------------------------------------------------------


def timing(schedule: Schedule) -> dict:
    """The declared timing as PeriodicTask fields: ``{"interval": row}`` or ``{"crontab": row}``."""
    if schedule.every:
        every, period = schedule.every
        return {"interval": interval_row(every, period), "crontab": None}
    return {"interval": None, "crontab": crontab_row(**schedule.crontab_fields())}


def interval_row(every: int, period: str):
    """The interval row for "every ``every`` ``period``" (rows are shared by schedules: never
    edited, only added)."""
    from django_celery_beat.models import IntervalSchedule

    row = IntervalSchedule.objects.filter(every=every, period=period).order_by("pk").first()
    return row or IntervalSchedule.objects.create(every=every, period=period)


def crontab_row(**fields):
    """The crontab row for these fields, in the project's time zone (shared, never edited)."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule

    fields = {**dict.fromkeys(CRONTAB_FIELDS, "*"), **fields, "timezone": settings.TIME_ZONE}
    row = CrontabSchedule.objects.filter(**fields).order_by("pk").first()
    return row or CrontabSchedule.objects.create(**fields)


def owned_by_code(schedule: Schedule) -> dict:
    """What the code owns on a schedule's row: what it runs, with what, and how it is routed."""
    return {
        "task": schedule.task,
        "args": json.dumps(list(schedule.args)),
        "kwargs": json.dumps(schedule.kwargs, sort_keys=True),
        "queue": None,
        "exchange": None,
        "routing_key": None,
        "headers": "{}",
        "priority": None,
        "expires": None,
        "expire_seconds": None,
        "one_off": False,
        "start_time": None,
        "solar": None,
        "clocked": None,
    }


def _differs(row, fields: dict) -> bool:
    for name, value in fields.items():
        current = getattr(row, name)
        if name in ("args", "kwargs", "headers"):
            try:
                same = json.loads(current or "null") == json.loads(value)
            except ValueError:
                same = False
        else:
            same = current == value
        if not same:
            return True
    return False


def _adopt(model, schedule: Schedule, names: set[str]):
    """The row an earlier release made for ``schedule``: by name, else (renamed by staff) the
    oldest row of its task that no declaration names."""
    rows = model.objects
    return (
        rows.filter(name=schedule.name).first()
        or rows.filter(task=schedule.task).exclude(name__in=names).order_by("pk").first()
    )


def sync_schedules(sender=None, **kwargs) -> None:
    """post_migrate receiver (for django_celery_beat): every declared schedule has its row,
    running what the code says. Staff's enabled and timing stay as they are."""
    from django.db import connection
    from django_celery_beat.models import PeriodicTask

    if PeriodicTask._meta.db_table not in connection.introspection.table_names():
        return
    names = {s.name for s in _declared}
    for schedule in _declared:
        row = _adopt(PeriodicTask, schedule, names)
        fields = {**owned_by_code(schedule), "name": schedule.name}
        if row is None:
            PeriodicTask(**fields, **timing(schedule), enabled=schedule.enabled).save()
            continue
        if not (row.interval_id or row.crontab_id):  # a solar or clocked one: the declared timing
            fields.update(timing(schedule))
        if _differs(row, fields):
            for name, value in fields.items():
                setattr(row, name, value)
            row.save()  # signals beat (PeriodicTasks.changed)


# --- who set a schedule's run going ------------------------------------------------------
#
# A schedule that prepares something for a second person's approval (a payout run) must not
# let the person who set it going approve it: "Run now", and the last change of whether or
# when it runs, are hands on it as much as preparing it by hand. Both are noted
# (``note_change``: ``switch`` and the schedule's page; ``note_run_now``: ``run_now``); the run
# started by "Run now" carries its request in a message header, so the task knows exactly who
# asked for this run.

RUN_NOW_HEADER = "hireops_run_now"


@dataclass(frozen=True)
class SetGoing:
    """The people whose hands were on the run of a schedule: who asked for this very run
    ("Run now"), and who last changed the schedule before it ran (and when)."""

    run_now_by_id: int | None = None
    changed_by_id: int | None = None
    changed_at: "datetime.datetime | None" = None

    @property
    def user_ids(self) -> set[int]:
        return {pk for pk in (self.run_now_by_id, self.changed_by_id) if pk is not None}


def switch(row, enabled: bool, user) -> bool:
    """Switch the schedule on or off as ``user``: noted as a hand on what it prepares, and in
    the change history; beat reloads the schedules. False: it was so already."""
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    from .. import audit

    if enabled == row.enabled:
        return False
    # An update of this column only: beat writes last_run_at meanwhile.
    reset = {} if enabled else {"last_run_at": None}
    with transaction.atomic():
        PeriodicTask.objects.filter(pk=row.pk).update(enabled=enabled, **reset)
        note_change(row, user)
        audit.record(user, [row], ENABLED if enabled else DISABLED)
        PeriodicTasks.update_changed()
    return True


def run_now(row, schedule: Schedule, user) -> None:
    """Send the schedule's task, with the code's arguments (never the row's), once committed:
    the request is noted first and named in the task's headers, so what the run prepares knows
    who asked for it (``who_set_going``), and it is in the change history."""
    from celery import current_app as app  # hireops' app (config/__init__.py makes it current)

    from .. import audit

    app.loader.import_default_modules()
    headers = note_run_now(row, user)
    task = app.tasks[schedule.task]
    transaction.on_commit(
        partial(task.apply_async, args=schedule.args, kwargs=schedule.kwargs, headers=headers)
    )
    audit.record(user, [row], RUN)


def note_change(row, user) -> None:
    """``user`` switched the schedule on or off, or retimed it."""
    from ..models import ScheduleAction, ScheduleActionKind

    ScheduleAction.objects.create(name=row.name, kind=ScheduleActionKind.CHANGED, user=user)


def note_run_now(row, user) -> dict:
    """``user`` asked the schedule to run now: the headers that send its task, naming this request."""
    from ..models import ScheduleAction, ScheduleActionKind

    action = ScheduleAction.objects.create(name=row.name, kind=ScheduleActionKind.RUN_NOW, user=user)
    return {"periodic_task_name": row.name, RUN_NOW_HEADER: action.pk}


def _header(task_request, name: str):
    """A custom header of the running task: a worker puts it on the request, an eager run
    keeps it in ``headers``."""
    value = getattr(task_request, name, None)
    if value is None:
        value = (getattr(task_request, "headers", None) or {}).get(name)
    return value


def who_set_going(task_request, task: str) -> SetGoing:
    """Who set this run of the schedule of ``task`` going (``task_request``: the running
    task's ``self.request``). Called without a schedule's headers (a shell, a test), the
    schedule is the one declared for ``task``."""
    from ..models import ScheduleAction, ScheduleActionKind

    name = _header(task_request, "periodic_task_name")
    if not name:
        schedule = next((s for s in _declared if s.task == task), None)
        name = schedule.name if schedule else ""
    run_now_by_id = None
    run_now = _header(task_request, RUN_NOW_HEADER)
    if run_now is not None:
        asked = ScheduleAction.objects.filter(pk=run_now, kind=ScheduleActionKind.RUN_NOW).first()
        run_now_by_id = asked.user_id if asked else None
    last = (
        ScheduleAction.objects.filter(name=name, kind=ScheduleActionKind.CHANGED)
        .order_by("-at", "-pk")
        .values_list("user_id", "at")
        .first()
    )
    changed_by_id, changed_at = last or (None, None)
    return SetGoing(run_now_by_id, changed_by_id, changed_at)
