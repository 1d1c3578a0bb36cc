"""Shared fixtures. The Feishu sandbox fixtures live in tests/sandbox_fixtures.py."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from hireops.celery import app as celery_app

pytest_plugins = ["tests.sandbox_fixtures"]
ROOT = Path(__file__).resolve().parent.parent
STAFF_PASSWORD = "Pw-123456!"  # every staff_user's


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process unless a test asks for the real worker (``celery_worker``)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def english(settings):
    """Tests read our English source strings; tests of the Chinese catalogue ask for it."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts without cached tokens or tickets (the sandbox forgets its tokens too)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def staff_user(django_user_model):
    """``staff_user("HR")`` → a logged-in-able staff member in that role (groups synced first:
    transactional tests flush the groups the migration made)."""
    from django.contrib.auth.models import Group

    from hireops.core.roles import sync_roles

    def make(*roles, username=None, perms=()):
        sync_roles()
        user = django_user_model.objects.create_user(
            username or "-".join(roles).lower().replace(" ", "_") or "staff",
            password=STAFF_PASSWORD,
            is_staff=True,
        )
        user.groups.add(*Group.objects.filter(name__in=roles))
        if perms:
            from django.contrib.auth.models import Permission

            for perm in perms:
                app_label, codename = perm.split(".")
                user.user_permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
        return user

    return make


def db_url_for_children() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**extra) -> dict:
    """Environment for a child process that must share this test run's DB, cache and broker."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url_for_children(),
        FEISHU_BASE_URL=settings.FEISHU_BASE_URL,
        FEISHU_APP_ID=settings.FEISHU_APP_ID,
        FEISHU_APP_SECRET=settings.FEISHU_APP_SECRET,
        FEISHU_APP_TYPE=settings.FEISHU_APP_TYPE,
        FEISHU_ENCRYPT_KEY=settings.FEISHU_ENCRYPT_KEY,
        FEISHU_VERIFICATION_TOKEN=settings.FEISHU_VERIFICATION_TOKEN,
        CELERY_BROKER_URL=celery_app.conf.broker_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real ``celery worker`` process on the configured broker and the test database.

    Tasks are published for real (eager off); the fixture yields a function that
    waits for a condition while the worker runs, and shows the worker's log on failure.
    """
    celery_app.conf.task_always_eager = False
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hireops",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_until(condition, timeout=30.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{what} not reached; worker log:\n{log_path.read_text()[-4000:]}")

    yield wait_until
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
