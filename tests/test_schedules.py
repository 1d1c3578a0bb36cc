"""Schedules come from the code; each role sees, switches, retimes and runs only its own apps'.

Every declared schedule is tried against every role over HTTP, as a curious colleague would:
the list, the change page (a POST that also names another task and arguments), the list
actions, "Run now" of a row whose task was tampered with. Who may do what is the
product's rule, stated here once (ROLES); which app a schedule belongs to is its task's app.
"""

import json
from dataclasses import dataclass, replace
from importlib import import_module

import pytest
from celery.signals import task_prerun
from django.apps import apps as django_apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core import checks
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from hireops.core.auth import roles
from hireops.core.schedules import registry as schedules

pytestmark = pytest.mark.django_db
LIST = "/admin/django_celery_beat/periodictask/"
PLATFORM = "platform"


@dataclass(frozen=True)
class Role:
    groups: tuple[str, ...]
    manages: frozenset[str]  # the apps whose schedules the role manages
    sees_all: bool = False
    superuser: bool = False


ROLES = {
    "vendor": Role((roles.VENDOR_OPS,), frozenset({"bindings", "orders"})),
    "hr": Role((roles.HR,), frozenset({"referrals"})),
    "hr-withdrawals": Role((roles.HR, roles.HR_WITHDRAWALS), frozenset({"referrals"})),
    "auditor": Role((roles.AUDITOR,), frozenset(), sees_all=True),
    "superuser": Role((), frozenset(), sees_all=True, superuser=True),
}


def owner(schedule) -> str:
    """The app a schedule belongs to: its task's (``orders.purge_personal_data``); the
    platform's own apps (``hireops.events``, ``hireops.jobs``) are the superusers'. A new app's
    schedule fails below until ROLES says whose it is."""
    config = django_apps.get_app_config(schedule.task.split(".")[0])
    return PLATFORM if config.name.startswith("hireops.") else config.label


def manages(role: Role, schedule) -> bool:
    return role.superuser or owner(schedule) in role.manages


def sees(role: Role, schedule) -> bool:
    return role.sees_all or manages(role, schedule)


@pytest.fixture
def login(client, staff_user, django_user_model):
    def as_role(name: str):
        role = ROLES[name]
        if role.superuser:
            user = django_user_model.objects.create_superuser("root", password="Pw-123456!")
        else:
            user = staff_user(*role.groups, username=name)
        client.force_login(user)
        return role, user

    return as_role


@pytest.fixture
def ran():
    """(task name, args, kwargs) of every task run in this process (tasks are eager here)."""
    seen = []

    def record(sender=None, args=None, kwargs=None, **_):
        seen.append((sender.name, list(args or ()), dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


def row(schedule) -> PeriodicTask:
    return PeriodicTask.objects.get(name=schedule.name)


def state(task: PeriodicTask) -> tuple:
    task = PeriodicTask.objects.get(pk=task.pk)
    return (
        task.name,
        task.task,
        task.args,
        task.kwargs,
        task.queue,
        task.enabled,
        task.interval_id,
        task.crontab_id,
        task.one_off,
        task.expires,
    )


def hostile_form(task: PeriodicTask) -> dict:
    """The page's form with a new timing and enabled flipped, plus what an attacker adds: another
    task and arguments, a queue, a name, beat's own "registered task" field."""
    return {
        "enabled": "" if task.enabled else "on",
        "kind": "interval",
        "every": "7",
        "period": "minutes",
        **dict.fromkeys(schedules.CRONTAB_FIELDS, "*"),
        "name": "hijacked",
        "task": "orders.send_write",
        "regtask": "orders.send_write",
        "args": "[1]",
        "kwargs": '{"x": 1}',
        "queue": "elsewhere",
        "one_off": "on",
        "_save": "Save",
    }


def test_every_declared_schedule_has_one_row_and_covers_each_app():
    declared = schedules.schedules()
    assert {owner(s) for s in declared} >= {"orders", "referrals", PLATFORM}
    assert {s.task.split(".")[0] for s in declared} >= {"events", "jobs", "orders", "referrals"}
    for schedule in declared:
        task = row(schedule)  # exactly one, by its name
        assert task.task == schedule.task and json.loads(task.args) == list(schedule.args)
        assert PeriodicTask.objects.filter(task=schedule.task).count() == 1


@pytest.mark.parametrize("name", ROLES)
def test_each_role_sees_changes_and_runs_only_its_own_schedules(
    client, login, ran, sandbox, name, django_capture_on_commit_callbacks
):
    role, user = login(name)
    declared = schedules.schedules()
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{LIST}add/" not in html  # nobody adds a schedule
    for schedule in declared:
        task = row(schedule)
        change = f"{LIST}{task.pk}/change/"
        assert (f"{LIST}{task.pk}/change/" in html) == sees(role, schedule), (name, schedule.name)

        # The change page: a manager's POST changes enabled and the timing, nothing else.
        page = client.get(change)
        assert (page.status_code == 200) == sees(role, schedule), (name, schedule.name, page.status_code)
        before, entries = state(task), LogEntry.objects.count()
        form = hostile_form(task)
        client.post(change, form)
        after = PeriodicTask.objects.get(pk=task.pk)
        if manages(role, schedule):
            assert after.enabled == (form["enabled"] == "on"), (name, schedule.name)
            assert (after.interval.every, after.interval.period, after.crontab) == (7, "minutes", None)
            assert state(after)[:5] == before[:5] and state(after)[-2:] == before[-2:]  # task, args, …
            assert LogEntry.objects.filter(user=user, object_id=str(task.pk)).exists()
        else:
            assert state(after) == before and LogEntry.objects.count() == entries, (name, schedule.name)

        # "Run now" of a row tampered with (as an earlier release let HR do): the code's task runs.
        PeriodicTask.objects.filter(pk=task.pk).update(task="orders.send_write", args="[1]")
        ran.clear()
        with django_capture_on_commit_callbacks(execute=True):  # sent once its request is committed
            client.post(LIST, {"action": "run_tasks", "_selected_action": [task.pk]})
        assert ("orders.send_write", [1], {}) not in ran
        if manages(role, schedule):
            assert ran[0] == (schedule.task, list(schedule.args), schedule.kwargs), (name, ran)
        else:
            assert ran == [], (name, schedule.name, ran)

        # Switching off: the manager's takes effect and is recorded, anyone else's does nothing.
        PeriodicTask.objects.filter(pk=task.pk).update(enabled=True)
        client.post(LIST, {"action": "disable_tasks", "_selected_action": [task.pk]})
        enabled = PeriodicTask.objects.get(pk=task.pk).enabled
        assert enabled is not manages(role, schedule), (name, schedule.name)
    if role.superuser or role.manages & {"orders", "referrals"}:
        assert LogEntry.objects.filter(user=user).exists()  # the loop did change something


@pytest.mark.parametrize("name", ROLES)
def test_nobody_adds_deletes_or_edits_the_timing_rows(client, login, name):
    login(name)
    task = PeriodicTask.objects.order_by("pk").first()
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}add/", {"name": "x", "task": "orders.send_write"}).status_code == 403
    assert client.post(f"{LIST}{task.pk}/delete/", {"post": "yes"}).status_code in (403, 302)
    client.post(LIST, {"action": "delete_selected", "_selected_action": [task.pk], "post": "yes"})
    assert PeriodicTask.objects.filter(pk=task.pk).exists()
    assert PeriodicTask.objects.count() == len(schedules.schedules())
    for kind in ("intervalschedule", "crontabschedule", "clockedschedule", "solarschedule"):
        assert client.get(f"/admin/django_celery_beat/{kind}/add/").status_code == 404
        assert client.get(f"/admin/django_celery_beat/{kind}/").status_code == 404


def test_the_auditor_reads_a_schedule_without_a_form(client, login):
    login("auditor")
    task = row(schedules.declared("Referrals: pull balances from Feishu"))
    html = client.get(f"{LIST}{task.pk}/change/").content.decode()
    assert "referrals.pull_balances" in html and "every minute" in html
    assert 'name="every"' not in html and 'name="enabled"' not in html and 'name="_save"' not in html
    assert 'name="action"' not in client.get(LIST).content.decode()  # no action offered


def test_a_crontab_is_checked_and_a_bad_one_changes_nothing(client, login):
    login("vendor")
    task = row(schedules.declared("Orders: purge candidates' data of orders ended long ago"))
    change = f"{LIST}{task.pk}/change/"
    form = {"enabled": "on", "kind": "crontab", "every": "", "period": "minutes", "_save": "Save"}
    bad = {**form, "minute": "61", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
    page = client.post(change, bad)
    assert page.status_code == 200 and "Not a crontab value: 61" in page.content.decode()
    assert PeriodicTask.objects.get(pk=task.pk).crontab_id == task.crontab_id
    crontabs = CrontabSchedule.objects.count()
    good = {**bad, "minute": "0", "hour": "*/6"}
    assert client.post(change, good).status_code == 302
    crontab = PeriodicTask.objects.get(pk=task.pk).crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("0", "*/6", "Asia/Shanghai")
    assert CrontabSchedule.objects.count() == crontabs + 1
    # The same timing again reuses the row; an interval needs its number.
    client.post(change, good)
    assert CrontabSchedule.objects.count() == crontabs + 1
    page = client.post(change, {**good, "kind": "interval"})
    assert "Needed for a schedule at an interval." in page.content.decode()


def test_a_shared_timing_row_moves_one_schedule_only(client, login):
    """Schedules share interval rows (every minute): retiming one never retimes another."""
    login("vendor")
    writes = row(schedules.declared("Orders: send writes whose task was lost"))
    others = {t.pk: t.interval_id for t in PeriodicTask.objects.exclude(pk=writes.pk)}
    assert writes.interval_id in others.values()  # shared with another schedule
    form = {"enabled": "on", "kind": "interval", "every": "2", "period": "minutes", "_save": "Save"}
    client.post(f"{LIST}{writes.pk}/change/", {**form, **dict.fromkeys(schedules.CRONTAB_FIELDS, "*")})
    assert str(PeriodicTask.objects.get(pk=writes.pk).interval) == "every 2 minutes"
    assert {t.pk: t.interval_id for t in PeriodicTask.objects.exclude(pk=writes.pk)} == others


def test_migrate_adopts_earlier_rows_keeps_staff_timing_and_restores_what_the_code_owns():
    pull = schedules.declared("Referrals: pull balances from Feishu")
    sync = schedules.declared("Referrals: retry pending registrations, withdrawals, status changes")
    purge = schedules.declared("Orders: purge candidates' data of orders ended long ago")
    sweep = schedules.declared("Feishu events: queue stored but unprocessed events")
    hourly = IntervalSchedule.objects.create(every=1, period="hours")
    # Staff renamed, retimed and disabled one; an older admin let another's task and arguments
    # be changed; a third's row is gone; a fourth lost its timing; one no app declares.
    PeriodicTask.objects.filter(name=pull.name).update(name="HR: balances", interval=hourly, enabled=False)
    PeriodicTask.objects.filter(name=sync.name).update(task="orders.send_write", args="[1]", queue="x")
    PeriodicTask.objects.filter(name=purge.name).delete()
    PeriodicTask.objects.filter(name=sweep.name).update(interval=None, crontab=None, solar=None)
    hand_made = PeriodicTask.objects.create(name="By hand", task="events.prune", interval=hourly)

    call_command("migrate", verbosity=0)  # nothing to migrate: post_migrate runs the sync

    adopted = row(pull)
    assert (adopted.interval_id, adopted.enabled) == (hourly.pk, False)  # staff's, kept
    assert not PeriodicTask.objects.filter(name="HR: balances").exists()  # renamed back, not doubled
    restored = row(sync)
    assert (restored.task, restored.args, restored.queue) == ("referrals.sync_pending", "[]", None)
    assert row(purge).crontab.minute == "40" and row(purge).enabled  # made again, as declared
    assert str(row(sweep).interval) == "every 30 seconds"  # no timing left: the declared one
    assert PeriodicTask.objects.filter(pk=hand_made.pk).exists()  # nothing removed
    assert PeriodicTask.objects.count() == len(schedules.schedules()) + 1


def test_beat_runs_only_the_declared_schedules_with_their_declared_task():
    """A row changed behind the admin's back (renamed and pointed at another task by an older
    release's admin) runs nothing: beat reads the timing from rows, the task from the code."""
    from config.celery import app
    from hireops.core.schedules.beat import DeclaredScheduler

    pull = schedules.declared("Referrals: pull balances from Feishu")
    tampered = {"task": "orders.send_write", "args": "[1]", "kwargs": '{"a": 1}'}
    PeriodicTask.objects.filter(name=pull.name).update(**tampered)
    PeriodicTask.objects.create(
        name="By hand", task="orders.send_write", args="[1]", interval=IntervalSchedule.objects.first()
    )
    entries = DeclaredScheduler(app=app, lazy=True).all_as_schedule()
    # (beat leaves out crontabs not due within two hours: those may be missing)
    assert (
        {s.name for s in schedules.schedules() if s.every}
        <= set(entries)
        <= {s.name for s in schedules.schedules()}
    )
    for schedule in schedules.schedules():
        entry = entries.get(schedule.name)
        if entry is None:
            continue
        assert (entry.task, entry.args, entry.kwargs) == (schedule.task, list(schedule.args), schedule.kwargs)
        assert entry.options == {"headers": {"periodic_task_name": schedule.name}}
    assert app.conf.beat_scheduler == "hireops.core.schedules.beat:DeclaredScheduler"


def test_an_undeclared_row_is_the_superusers_and_never_run(client, login, ran):
    hand_made = PeriodicTask.objects.create(
        name="By hand", task="orders.send_write", args="[1]", interval=IntervalSchedule.objects.first()
    )
    login("auditor")
    assert f"{LIST}{hand_made.pk}/change/" in client.get(LIST).content.decode()
    login("hr")
    assert f"{LIST}{hand_made.pk}/change/" not in client.get(LIST).content.decode()
    login("superuser")
    page = client.post(LIST, {"action": "run_tasks", "_selected_action": [hand_made.pk]}, follow=True)
    assert "no app declares this schedule" in page.content.decode() and ran == []
    client.post(LIST, {"action": "disable_tasks", "_selected_action": [hand_made.pk]})
    assert not PeriodicTask.objects.get(pk=hand_made.pk).enabled  # a superuser may stop it
    client.post(f"{LIST}{hand_made.pk}/delete/", {"post": "yes"})  # and remove it
    assert not PeriodicTask.objects.filter(pk=hand_made.pk).exists()


def test_hr_loses_the_schedule_permissions_of_earlier_releases():
    """Earlier releases gave HR django-celery-beat's own permissions, which now mean every
    schedule; the data migration takes them back, and the roles never give them again."""
    roles.sync_roles()
    hr = Group.objects.get(name=roles.HR)
    beat = Permission.objects.filter(content_type__app_label="django_celery_beat")
    earlier = [
        *roles.model_permissions("django_celery_beat.periodictask", "view", "change"),
        *roles.model_permissions("django_celery_beat.intervalschedule", "view", "add", "change"),
        *roles.model_permissions("django_celery_beat.crontabschedule", "view", "add", "change"),
    ]
    hr.permissions.add(*beat.filter(codename__in=[p.split(".")[1] for p in earlier]))
    hr.permissions.add(beat.get(codename="view_solarschedule"))  # an administrator's own addition
    import_module("referrals.migrations.0009_schedules_by_app").take_back(django_apps, None)
    roles.sync_roles()
    left = hr.permissions.filter(content_type__app_label="django_celery_beat")
    assert list(left.values_list("codename", flat=True)) == ["view_solarschedule"]
    assert hr.permissions.filter(codename="manage_schedules", content_type__app_label="referrals").exists()


def _schedule_errors(monkeypatch, *extra) -> list:
    monkeypatch.setattr(schedules, "_declared", [*schedules.schedules(), *extra])
    return [e for e in checks.run_checks() if e.id.startswith("hireops.E03")]


def test_the_declared_schedules_pass_the_system_checks(monkeypatch):
    assert _schedule_errors(monkeypatch) == []


def test_a_wrong_declaration_stops_the_start(monkeypatch):
    pull = schedules.declared("Referrals: pull balances from Feishu")
    wrong = [
        schedules.Schedule(pull.name, pull.task, pull.managed_with, every=(2, "minutes")),  # twice
        schedules.Schedule("Typo", "referrals.pull_balance_typo", every=(1, "minutes")),
        schedules.Schedule("Both", "events.prune", crontab="0 3 * * *", every=(1, "minutes")),
        schedules.Schedule("Bad crontab", "events.prune", crontab="61 3 * * *"),
        schedules.Schedule("Bad period", "events.prune", every=(1, "fortnights")),
        schedules.Schedule("Nobody's", "events.prune", "referrals.no_such_permission", every=(1, "minutes")),
    ]
    errors = _schedule_errors(monkeypatch, *wrong)
    assert sorted(e.id for e in errors) == [
        "hireops.E030",
        "hireops.E031",
        "hireops.E032",
        "hireops.E032",
        "hireops.E032",
        "hireops.E033",
    ]


def test_every_outbound_kind_is_swept_by_a_scheduled_task_or_says_no_one(monkeypatch):
    """A row whose task was lost stays queued until its kind's sweep runs: a kind that names
    none, or a task no schedule runs, stops the start."""
    from hireops import outbound

    def swept_errors() -> list[str]:
        return [e.msg for e in checks.run_checks() if e.id == "hireops.E034"]

    assert swept_errors() == []
    kinds = outbound.kinds()
    assert {kind.swept_by for kind in kinds} >= {"referrals.sync_pending", "webhooks.send_due", None}
    template = outbound.kind_named("orders.send_write")
    for name, swept_by in (
        ("tests.unswept", ""),
        ("tests.typo", "orders.resume_write"),
        ("tests.asked", None),
    ):
        monkeypatch.setitem(outbound.KINDS, name, replace(template, name=name, swept_by=swept_by))
    assert swept_errors() == [
        "The outbound kind 'tests.unswept' names no sweep: a row whose task was lost would stay queued.",
        "The outbound kind 'tests.typo' is swept by 'orders.resume_write', which no schedule runs: a row "
        "whose task was lost would stay queued.",
    ]
