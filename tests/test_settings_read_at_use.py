"""No setting is frozen at import: an object a module makes when it is imported (a constant, a
registered kind, a Celery task, the inbox's writer) reads a setting when it is used, so an
override (the settings fixture, a worker's own environment) changes what it does without the
module being imported again."""

import json
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from config.celery import app as celery_app
from hireops import outbound
from hireops.events.inbox import writer
from hireops.outbound.limits import SettingsTimeLimits
from tests.conftest import ROOT
from tests.test_task_time_limits import project_tasks

# Read at import, and rightly: Django's swappable user model is fixed for the life of the
# database (models and migrations name it as they are defined); BASE_DIR is where the code is,
# which no environment changes.
READ_AT_IMPORT = {"AUTH_USER_MODEL", "BASE_DIR"}

# In a fresh process: every settings read by project code while a project module is being
# imported, wherever the read is (a module's top level, a class body, a decorator's argument, a
# function the import calls). django.conf.settings is replaced by a recorder before anything of
# the project imports it; the URLconf and the Celery app load first, as a server and a worker
# load them, then every module of the packages.
PROBE = r"""
import importlib, json, os, pkgutil, sys

PACKAGES = ("config", "hireops", "bindings", "orders", "referrals")
OWN = tuple(os.path.join(os.getcwd(), package) + os.sep for package in PACKAGES)
SETTINGS_MODULES = os.path.join(os.getcwd(), "config", "settings") + os.sep

import django.conf

real = django.conf.settings
found = set()


def importing(frame):
    while frame is not None:
        code = frame.f_code
        if code.co_name == "<module>" and code.co_filename.startswith(OWN):
            return True
        frame = frame.f_back
    return False


class Recorder:
    __module__ = "django.conf"  # Django's translations find the settings' module by it

    def __getattr__(self, name):
        frame = sys._getframe(1)
        where = frame.f_code.co_filename
        if where.startswith(OWN) and not where.startswith(SETTINGS_MODULES) and importing(frame):
            found.add((name, os.path.relpath(where), frame.f_lineno))
        return getattr(real, name)

    def __setattr__(self, name, value):
        setattr(real, name, value)


django.conf.settings = Recorder()
import django

django.setup()
importlib.import_module("config.urls")
importlib.import_module("config.celery")
imported = 0
for package in PACKAGES:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name.startswith("config.settings"):
            continue
        importlib.import_module(info.name)
        imported += 1
print(json.dumps({"imported": imported, "found": sorted(found)}))
"""


@pytest.mark.processes
def test_no_module_of_the_project_reads_a_setting_while_it_is_imported(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HIREOPS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    probe = json.loads(done.stdout.splitlines()[-1])
    assert probe["imported"] > 300  # every module, not an empty walk
    read = {name for name, _, _ in probe["found"]}
    assert "AUTH_USER_MODEL" in read  # the recorder sees reads at import (every user FK makes one)
    frozen = [
        f"{at}:{line}: settings.{name}" for name, at, line in probe["found"] if name not in READ_AT_IMPORT
    ]
    assert not frozen, "read at import (read them where they are used):\n" + "\n".join(frozen)


def settings_limited_tasks() -> dict:
    return {name: task for name, task in project_tasks().items() if isinstance(task, SettingsTimeLimits)}


def expected_limits(name: str) -> tuple[float, float]:
    if name == "webhooks.deliver":
        return int(django_settings.WEBHOOK_TIMEOUT) + 15, int(django_settings.WEBHOOK_TIMEOUT) + 30
    return django_settings.OUTBOUND_TASK_SOFT_TIME_LIMIT, django_settings.OUTBOUND_TASK_TIME_LIMIT


def test_every_outbound_task_has_the_limits_of_the_settings_of_the_moment(settings):
    tasks = settings_limited_tasks()
    # Every kind's task and batch task, and the pulls made by the factory directly.
    made_by_the_engine = {kind.name for kind in outbound.kinds()}
    made_by_the_engine |= {kind.batch_task_name for kind in outbound.kinds() if kind.batch > 1}
    assert made_by_the_engine | {"referrals.pull_balance"} <= set(tasks)
    before = {name: (task.soft_time_limit, task.time_limit) for name, task in tasks.items()}

    settings.OUTBOUND_TASK_SOFT_TIME_LIMIT, settings.OUTBOUND_TASK_TIME_LIMIT = 111, 122
    settings.WEBHOOK_TIMEOUT = 40.0
    for name, task in tasks.items():
        assert (task.soft_time_limit, task.time_limit) == expected_limits(name), name
        assert (task.soft_time_limit, task.time_limit) != before[name], name
    assert (tasks["webhooks.deliver"].soft_time_limit, tasks["webhooks.deliver"].time_limit) == (55, 70)


def test_an_outbound_tasks_message_carries_no_limits_so_the_worker_applies_its_own(monkeypatch):
    """Celery copies a task's limits into each message it sends, and a worker applies the
    message's before its own: the sender's settings would decide."""
    sent = []
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery_app, "send_task", lambda *args, **options: sent.append(options))
    task = settings_limited_tasks()["webhooks.deliver"]
    task.apply_async((1,), queue="webhooks")
    task.delay(2)
    assert len(sent) == 2
    for options in sent:
        # send_task's explicit None: no limits in the message (an option left out would fall
        # back to the task's own values, as this process has them).
        assert "soft_time_limit" in options and options["soft_time_limit"] is None, options
        assert "time_limit" in options and options["time_limit"] is None, options


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_worker_applies_the_limits_of_its_own_environment(start_celery_worker):
    """The webhooks' limits follow WEBHOOK_TIMEOUT as the worker reads it, not as this process
    (which made the task at import) does; the prefork pool takes them from the task when the
    worker starts (tests/test_task_time_limits.py: a real cut by a worker's own limit)."""
    start_celery_worker(
        WEBHOOK_TIMEOUT="40", OUTBOUND_TASK_SOFT_TIME_LIMIT="111", OUTBOUND_TASK_TIME_LIMIT="122"
    )
    assert (django_settings.WEBHOOK_TIMEOUT, django_settings.OUTBOUND_TASK_TIME_LIMIT) == (15.0, 660)
    answers = None
    deadline = time.monotonic() + 30
    while not answers and time.monotonic() < deadline:
        answers = celery_app.control.inspect(timeout=2).registered("soft_time_limit", "time_limit")
    assert answers, "the worker did not answer"
    [registered] = answers.values()
    reported = {line.split(" ", 1)[0]: line for line in registered}
    assert reported["webhooks.deliver"] == "webhooks.deliver [soft_time_limit=55 time_limit=70]"
    for name in settings_limited_tasks():
        if name != "webhooks.deliver":
            assert reported[name] == f"{name} [soft_time_limit=111 time_limit=122]"


def test_the_inbox_writer_made_at_import_refuses_by_the_bound_of_the_moment(settings, monkeypatch):
    monkeypatch.setattr(writer, "refused", writer.refused)  # its count, as it was, afterwards
    assert not writer._queue  # nothing waiting: only the bound can make it refuse
    settings.INBOX_QUEUE_MAX = 0
    assert writer.refuses_now()
    settings.INBOX_QUEUE_MAX = 1000
    assert not writer.refuses_now()
