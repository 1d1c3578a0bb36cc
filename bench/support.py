"""What the benchmarks that drive the Feishu sandbox share: a port, a database, the sandbox
and a Celery worker as subprocesses, started the way production starts them."""

import socket
import subprocess
import sys
import time
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
    """``manage.py feishu_sandbox`` on 127.0.0.1:``port``, its output discarded."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "feishu_sandbox", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
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


def start_worker(concurrency: int, env: dict) -> subprocess.Popen:
    """A real ``celery worker`` with the threads pool, as the Procfile runs it."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hireops",
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
