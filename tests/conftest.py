"""Shared fixtures. The Feishu sandbox fixtures live in tests/sandbox_fixtures.py."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from celery._state import _set_task_join_will_block
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.test import override_settings

from config.celery import app as celery_app

pytest_plugins = ["tests.sandbox_fixtures", "tests.processes", "tests.fast_flush", "tests.template_db"]
ROOT = Path(__file__).resolve().parent.parent
STAFF_PASSWORD = "Pw-123456!"  # every staff_user's

# Every test's sandbox starts from the seed: none reads a demo's saved state, not even a
# `manage.py feishu_sandbox` child started with this process's environment.
os.environ.pop("SANDBOX_STATE_FILE", None)
settings.SANDBOX_STATE_FILE = ""


# A test process makes a young generation's worth of objects in a few admin requests (each
# renders thousands of template nodes), so CPython's default threshold (700) ran a young pass
# dozens of times a request and an older one every ten of those. Once the tests are collected,
# what collection made (the test modules, their parameters, the OpenAPI schema) joins Django's
# start among the frozen objects (config.startup), and the young passes come every 10,000
# allocations instead: most of what a request makes is freed by its reference count before a
# pass comes, and cycles are still collected, only in rarer passes. The admin's enumerations
# took 7–10 % less CPU so (docs/benchmarks.md, "The suite and CI"); the processes a test
# starts keep the product's own settings.
YOUNG_PASS_EVERY = 10_000


def pytest_collection_finish(session):
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_PASS_EVERY, *gc.get_threshold()[1:])


@pytest.fixture(scope="session", autouse=True)
def empty_redis_databases():
    """An xdist worker starts on empty Redis databases of its own (tests/worker_env.py): messages
    a killed run left in its broker would otherwise reach this run's Celery workers by the
    thousand (events whose rows are gone), and its coordination keys would count old calls.
    Only a worker's own databases: a run in one process (HIREOPS_TEST_WORKERS=0) uses
    REDIS_URL as given, which may be a development stack's."""
    from tests.worker_env import WORKER

    if not WORKER:
        return
    import redis

    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if url.startswith("redis://"):
            with redis.Redis.from_url(url) as client:
                client.flushdb()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_modify_db_settings):
    """The test database is kept as the template of later ones (tests/template_db.py). It
    commits without waiting for its disk (``synchronous_commit = off``,
    for every connection: the test process's, its workers', its servers'): a commit here cost
    1.7 ms, and the suite commits by the hundred thousand. What other sessions see is unchanged;
    only a crash of PostgreSQL itself could lose the last commits, of a database dropped anyway."""
    from django.db import connection

    from tests.template_db import keep_as_template

    template = django_db_modify_db_settings
    if template is None or not template.test_database_in_use():
        return  # no test database this run: the configured one is not ours
    keep_as_template(template, django_db_blocker)
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        cursor.execute("SET synchronous_commit = off")


@pytest.fixture
def quiet_refusals():
    """For a test that asks the admin thousands of refused questions: each refusal is logged by
    django.security with its traceback, formatted and masked, and no test reads them there.
    ``setLevel``, not an assignment to ``level``: a logger caches which levels it lets through
    once it has logged, and only ``setLevel`` empties that cache."""
    import logging

    logger = logging.getLogger("django.security")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture(autouse=True)
def signed_in_with_both_factors(monkeypatch, request):
    """``client.force_login`` / ``client.login`` stand for a finished sign-in, so their session
    also has the second factor a sensitive role needs (hireops.signin), and a user whose role
    needs one has one (an authenticator app: until then a money permission does nothing). The
    tests of that requirement sign in through the real pages instead, or mark themselves
    ``@pytest.mark.second_factor_unproven`` to keep the shortcut honest."""
    if request.node.get_closest_marker("second_factor_unproven"):
        return
    from django.test.client import Client

    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        from django.http import HttpRequest

        from hireops.signin import second_factor
        from tests.second_factor import give_totp

        if second_factor.needs_second_factor(user) and not second_factor.enrolled(user):
            give_totp(user)
        session, fake = self.session, HttpRequest()
        fake.session = session
        second_factor.record(fake, user, "mfa", type="totp")
        session.save()

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Tasks run in-process unless a test asks for the real worker (``celery_worker``).

    A delivery through the Django view is processed after the answer, on the publisher's
    thread (where its eager task runs), and a refusal is written by the recorder's thread.
    Either, still running when a transactional test's teardown truncates every table,
    deadlocks with the TRUNCATE, which then leaves its rows to the next test; and a task
    published after this turns eagerness off would wait in the broker for a later test's
    worker. So both threads finish here, first: this is set up after the database fixture
    (pytest-django's mark fixture is an autouse one of its plugin; a ``transactional_db``
    asked for by name is set up here), so it is torn down before it."""
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    celery_app.conf.task_always_eager = True
    # Celery marks "inside a task" in one flag for the whole process, set and restored around
    # each eager task: two threads running eager tasks at once (a test's and the live server's
    # webhook) can leave it set, and every later test's result.get() then refuses as if it
    # were called from a task. Each test starts outside any task, as a real caller is.
    _set_task_join_will_block(False)
    yield
    from hireops.events.publisher import publisher
    from hireops.events.rejection_recorder import recorder

    assert publisher.flush(10.0), "the event publisher did not drain"
    assert recorder.flush(10.0), "the rejection recorder did not drain"
    celery_app.conf.task_always_eager = False


@pytest.fixture(scope="session", autouse=True)
def stop_inbox_writer(django_db_setup, django_db_blocker):
    """The inbox writer thread keeps a connection to the test database: close it before
    the database is dropped. The rejection recorder's thread connects for each batch: let
    the last one finish first."""
    yield
    from hireops.events.inbox import writer
    from hireops.events.rejection_recorder import recorder
    from hireops.ops import probes

    writer.close()
    recorder.flush(5.0)
    probes.close()  # the readiness probes' threads hold connections too
    with django_db_blocker.unblock():
        _end_other_sessions()


def _end_other_sessions() -> None:
    """What still holds the test database when it is to be dropped (a Celery worker's pool
    process still exiting, a thread that ran an eager task) is cut off first: otherwise
    PostgreSQL refuses the drop and the next run finds the database left behind."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def unhashed_static_files():
    """pytest-django turns DEBUG off, and with DEBUG off the production storage names every
    static file after its hash from collectstatic's manifest. Tests in this process render
    pages but serve no file from STATIC_ROOT, so they use Django's plain storage; the
    production server's test (``admin_server``) runs collectstatic and the real storage."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        yield


def open_transactions(connection) -> list:
    """The atomic blocks open on ``connection`` besides the ones a test case wraps tests in."""
    return [a for a in connection.atomic_blocks if not getattr(a, "_from_testcase", False)]


@pytest.fixture(autouse=True)
def no_feishu_call_inside_a_transaction(monkeypatch):
    """Project rule: no HTTP call to Feishu while a database transaction is open (a lock held
    for a network round trip). Every call any test makes goes through this check."""
    from django.db import connection

    from hireops.feishu.http import FeishuClient

    send = FeishuClient._send

    def checked_send(self, method, path, **kwargs):
        assert not open_transactions(connection), f"Feishu {method} {path} called inside a transaction"
        return send(self, method, path, **kwargs)

    monkeypatch.setattr(FeishuClient, "_send", checked_send)


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
def soft_limit_after():
    """What the prefork pool does at a task's soft limit, in this process: SIGUSR1 raises
    SoftTimeLimitExceeded wherever the task is (billiard's ``soft_timeout_sighandler``)."""

    def raise_soft_limit(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGUSR1, raise_soft_limit)
    timers = []

    def arm(seconds):
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGUSR1))
        timer.start()
        timers.append(timer)

    yield arm
    for timer in timers:
        timer.cancel()
    signal.signal(signal.SIGUSR1, previous)


@pytest.fixture
def staff_user(django_user_model):
    """``staff_user("HR")`` → a logged-in-able staff member in that role (groups synced first:
    transactional tests flush the groups the migration made)."""
    from django.contrib.auth.models import Group

    from hireops.core.auth.roles import sync_roles

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


@pytest.fixture
def one_user_of_each_role(staff_user, django_user_model):
    """A staff member in each role's group, a superuser and a staff member with no role: the
    users whose views of the admin differ."""
    from django.contrib.auth.models import Group

    staff_user()  # the roles' groups
    names = Group.objects.values_list("name", flat=True)
    users = [staff_user(name, username=f"role-{n}") for n, name in enumerate(names)]
    return [*users, django_user_model.objects.create_superuser("root"), staff_user(username="no-role")]


@pytest.fixture
def register(sandbox):
    """Register an employee known to the sandbox and return the (active) account."""

    from referrals.accounts.services import account_register, person
    from referrals.models import AccountStatus

    def make(name="王小明", email="xiaoming@example.com", points=0, cash=None):
        sandbox.add_employee(name=name, email=email)
        account = account_register(person(name=name, email=email))
        account.refresh_from_db()
        assert account.status == AccountStatus.ACTIVE, account.error
        if points or cash:
            sandbox.grant_bonus(account.account_id, point_bonus=points, cash=cash)
        return account

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
        ORDER_REPORT_BASE_URL=settings.ORDER_REPORT_BASE_URL,
        CELERY_BROKER_URL=celery_app.conf.broker_url,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@pytest.fixture
def start_celery_worker(transactional_db, tmp_path):
    """Start a real ``celery worker`` process on the configured broker and the test database;
    keyword arguments override its environment (``LOG_FORMAT="json"``); ``pool="prefork"``
    runs production's pool (one child), the one that enforces time limits.

    Tasks are published for real (eager off); ``start`` returns a function that waits for a
    condition while the worker runs, shows the worker's log on failure, and has the path of
    that log as ``log_path``.
    """
    started = []

    def start(pool="solo", **env):
        celery_app.conf.task_always_eager = False
        log_path = tmp_path / f"worker-{len(started)}.log"
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    f"--pool={pool}",
                    *(["--concurrency=1"] if pool == "prefork" else []),
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=subprocess_env(**env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: _end_all ends its pool too
            )
        started.append(proc)

        def wait_until(condition, timeout=30.0, what="condition"):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if condition():
                    return
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
            raise AssertionError(f"{what} not reached; worker log:\n{log_path.read_text()[-4000:]}")

        wait_until.log_path = log_path
        wait_until.proc = proc  # a test that kills the worker mid-task
        return wait_until

    yield start
    _end_all(started)


@pytest.fixture
def celery_worker(start_celery_worker):
    """A real ``celery worker`` (see ``start_celery_worker``); yields its ``wait_until``."""
    return start_celery_worker()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IngestServer(str):
    """The events URL of a running ingest server, with its output and a graceful stop."""

    def __new__(cls, url, proc, log_path):
        server = super().__new__(cls, url)
        server.proc, server.log_path = proc, log_path
        return server

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        """SIGTERM: gunicorn's graceful stop."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def _start_gunicorn(app: str, workers: int, log_path: Path, env: dict) -> tuple[subprocess.Popen, int]:
    """``gunicorn app`` on a free port with the test database and broker; returns once one
    of its workers answers ``/healthz``. The master listens before any worker has loaded
    Django, and on a busy machine that takes seconds: a test whose first request had only
    the open port to go by waited that long for its answer, and failed on its timeout."""
    port = free_port()
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                *(["-k", "hireops.events.ingest_worker.IngestWorker"] if app == "config.ingest" else []),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "10",
                "--no-control-socket",  # gunicorn's default socket path is shared by every server
            ],
            cwd=ROOT,
            env=subprocess_env(LOG_LEVEL="INFO", **env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: _end_all ends its workers too
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.settimeout(max(deadline - time.monotonic(), 0.1))
                conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if conn.recv(12).startswith(b"HTTP/"):
                    return proc, port
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{app} did not start:\n{log_path.read_text()}")
        time.sleep(0.1)


def _stop_all(procs: list[subprocess.Popen]) -> None:
    """A graceful stop (SIGTERM), for a test that reads what a process writes as it stops."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _end_all(procs: list[subprocess.Popen]) -> None:
    """The end of a fixture's processes once its test is over: SIGKILL to each one's process
    group (a prefork pool's children, gunicorn's workers). A graceful stop took 1.5 s a
    process (a solo worker notices SIGTERM only when its 1 s wait on the broker ends, a
    prefork one stops its pool), 2 minutes of the suite; and a killed worker, unlike one
    stopping gracefully, does not put the task it held back on the queue for the next test."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    for proc in procs:
        proc.wait(10)


@pytest.fixture
def start_ingest_server(transactional_db, tmp_path):
    """Start ``gunicorn config.ingest -k hireops.events.ingest_worker.IngestWorker``, the
    production server for Feishu's pushes, on a free port with the test database and broker;
    keyword arguments override its environment. Returns an ``IngestServer``.

    One worker process unless the test asks for more (``workers=2``): each loads Django, about
    a second of CPU, and only the tests about several workers need a second one."""
    started = []

    def start(workers: int = 1, **env) -> IngestServer:
        log_path = tmp_path / f"ingest-{len(started)}.log"
        proc, port = _start_gunicorn("config.ingest", workers, log_path, env)
        started.append(proc)
        return IngestServer(f"http://127.0.0.1:{port}/feishu/events/", proc, log_path)

    yield start
    _end_all(started)


@pytest.fixture
def ingest_server(start_ingest_server):
    """An ingest server on the test database and broker (see ``start_ingest_server``)."""
    return start_ingest_server()


# The production settings the admin server runs with in tests (see ``admin_server``).
PRODUCTION_ENV = {
    # The product's settings, without the emulator the test settings install.
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "FEISHU_SANDBOX": "0",
    "DEBUG": "0",
    "SECRET_KEY": "k9#Vq2!rT7xL0pZ4wE8uY1sB6nM3cH5jA2dF9gK7lQ0-production-only-8f3a1c",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Served over plain HTTP on loopback here: a Secure cookie would never come back.
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """``manage.py collectstatic`` as the production steps (docs/deployment.md) run it, into a
    folder of this test session: what the production admin server serves."""
    static_root = tmp_path_factory.mktemp("static")
    env = {**os.environ, **PRODUCTION_ENV, "STATIC_ROOT": str(static_root)}
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return static_root


@pytest.fixture
def start_admin_server(transactional_db, collected_static, tmp_path):
    """Start the admin as production runs it: ``gunicorn config.wsgi`` with ``DEBUG`` off,
    serving the collected static files, on the test database; keyword arguments override its
    environment. Returns its base URL. One worker process unless asked (``workers=2``), as
    ``start_ingest_server``."""
    started = []

    def start(workers: int = 1, **env) -> str:
        log_path = tmp_path / f"admin-server-{len(started)}.log"
        env = {**PRODUCTION_ENV, "STATIC_ROOT": str(collected_static), **env}
        proc, port = _start_gunicorn("config.wsgi", workers, log_path, env)
        started.append(proc)
        return f"http://127.0.0.1:{port}"

    yield start
    _end_all(started)


@pytest.fixture
def admin_server(start_admin_server):
    """The admin as production runs it (see ``start_admin_server``). Returns its base URL."""
    return start_admin_server()


class Listener:
    """A running ``manage.py feishu_listen``: its health URL, its output, a graceful stop."""

    def __init__(self, proc, log_path, health_url):
        self.proc, self.log_path, self.health_url = proc, log_path, health_url

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a supervisor stops it; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture
def start_listener(transactional_db, tmp_path, settings):
    """Start ``manage.py feishu_listen`` (long connection to ``settings.FEISHU_BASE_URL``, the
    sandbox in tests) with the test database and broker; keyword arguments override its
    environment. Returns a ``Listener`` once its health endpoint answers."""
    started = []

    def start(**env) -> Listener:
        port = free_port()
        log_path = tmp_path / f"listen-{len(started)}.log"
        env = {"FEISHU_EVENT_TRANSPORT": "long_connection", "LOG_LEVEL": "INFO", **env}
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "feishu_listen", "--health-bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=subprocess_env(**env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for _end_all
            )
        started.append(proc)
        deadline = time.monotonic() + 60  # Django loading on a busy machine
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"feishu_listen did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        return Listener(proc, log_path, f"http://127.0.0.1:{port}")

    yield start
    _end_all(started)
