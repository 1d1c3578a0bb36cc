"""What the benchmarks that drive the Feishu sandbox share: a port, a database, the sandbox
and a Celery worker as subprocesses, started the way production starts them."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def start_sandbox(port: int) -> subprocess.Popen:
    """``manage.py feishu_sandbox`` on 127.0.0.1:``port``, its output discarded. Its long
    connection takes any free port (a dev sandbox may hold 8766): discovery tells clients where."""
    command = ["manage.py", "feishu_sandbox", "--host", "127.0.0.1", "--port", str(port), "--ws-port", "0"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "FEISHU_SANDBOX": "1"},  # the emulator is installed only where asked for
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_sandbox(control) -> None:
    """Until the sandbox answers its control API (about a second after start)."""
    for _ in range(100):
        try:
            control.state()
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"the Feishu sandbox did not answer at {control.url} within 10 s")


def start_worker(concurrency: int, env: dict, pool: str = "threads") -> subprocess.Popen:
    """A real ``celery worker``: by default with the threads pool, as the Procfile runs it
    (the image runs prefork: ``pool="prefork"``)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )


def busiest_window(times: list[float], seconds: float) -> int:
    """The most of ``times`` (sorted) in any window of ``seconds``, at every alignment (Feishu
    does not say whether its windows are fixed or sliding: a sliding one is the stricter)."""
    worst, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        worst = max(worst, end - start + 1)
    return worst


def api_server_env(var_dir: Path) -> dict[str, str]:
    """The environment of the admin and API server as the deployment runs it (production
    settings, DEBUG off), for the partner API's benchmarks: ``API_RATE_LIMIT`` raised (that
    limit is the deployment's choice for one partner, not the capacity measured)."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        HIREOPS_VAR_DIR=str(var_dir),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECRET_KEY="bench-" + uuid.uuid4().hex,
        LOG_LEVEL="WARNING",
        API_RATE_LIMIT="100000000",
        # Not used here; set so that the system checks stay quiet.
        FEISHU_ENCRYPT_KEY="bench-encrypt-key",
        FEISHU_VERIFICATION_TOKEN="bench-verification-token",  # noqa: S106
        PYTHONWARNINGS="ignore::UserWarning",  # no collected static files: the API serves none
    )


def redis_missing() -> bool:
    """The benches run the broker and the shared rate limiter on Redis, as production does."""
    if os.environ.get("REDIS_URL"):
        return False
    print("REDIS_URL is required: the broker and the shared rate limiter, as in production")
    return True


class Stack:
    """A started sandbox (``control``), and the worker once ``start_worker`` is called."""

    def __init__(self, control):
        self.control = control
        self.worker = None

    def start_worker(self, concurrency: int, pool: str = "threads", **env) -> None:
        self.worker = start_worker(concurrency, {**os.environ, **env}, pool)

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            self.worker.wait(30)
            self.worker = None


@contextmanager
def sandbox_stack(name: str, *, control_timeout: float, **env):
    """The environment of a bench run: a fresh sandbox subprocess (FEISHU_BASE_URL points at
    it), a PostgreSQL database (DATABASE_URL, default ``hireops_<name>_bench``, created and
    migrated), a temporary var dir; ``env`` is set on top. Django is set up on entry; the
    worker and the sandbox are stopped on exit, whatever happened."""
    port = free_port()
    db_url = os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/hireops_{name}_bench")
    os.environ.update(FEISHU_BASE_URL=f"http://127.0.0.1:{port}", **env)
    os.environ.setdefault("HIREOPS_VAR_DIR", tempfile.mkdtemp(prefix=f"hireops-{name}-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("FEISHU_SANDBOX", "1")  # the emulator stands in for Feishu
    create_database(db_url)
    sandbox = start_sandbox(port)
    stack = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from sandbox.control import SandboxControl

        call_command("migrate", verbosity=0)
        stack = Stack(SandboxControl(os.environ["FEISHU_BASE_URL"], timeout=control_timeout))
        wait_for_sandbox(stack.control)
        yield stack
    finally:
        if stack is not None:
            stack.stop_worker()
        sandbox.terminate()
        sandbox.wait(10)
