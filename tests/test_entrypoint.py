"""What the entry point runs for each subcommand and setting, and that it becomes that program.

A stand-in ``python`` first on PATH prints the arguments it was started with and its pid, so
every command line can be read without starting the servers (tests/test_container.py starts
them for real). The pid proves the exec: the program the entry point starts is the process
Docker signals, not a child of a shell.
"""

import os
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.processes  # every test here starts one

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
GUNICORN = "--graceful-timeout 30 --no-control-socket --worker-tmp-dir /dev/shm"

COMMAND_LINES = [
    (
        ("admin",),
        {},
        [f"-m gunicorn config.wsgi --bind 0.0.0.0:8000 --workers 2 --threads 4 {GUNICORN}"],
    ),
    (
        ("admin", "--timeout", "60"),
        {"PORT": "9000", "WEB_CONCURRENCY": "5", "WEB_THREADS": "8", "GRACEFUL_TIMEOUT": "20"},
        [
            "-m gunicorn config.wsgi --bind 0.0.0.0:9000 --workers 5 --threads 8 "
            "--graceful-timeout 20 --no-control-socket --worker-tmp-dir /dev/shm --timeout 60"
        ],
    ),
    (
        ("ingest",),
        {"INGEST_WORKERS": "3", "BIND_HOST": "127.0.0.1"},
        [
            "-m gunicorn config.ingest --worker-class hireops.events.ingest_worker.IngestWorker "
            f"--bind 127.0.0.1:8001 --workers 3 {GUNICORN}"
        ],
    ),
    (("worker",), {}, ["-m celery -A config worker --loglevel INFO --pool prefork --concurrency 4"]),
    (
        ("worker", "--prefetch-multiplier", "1"),
        {"WORKER_QUEUES": "celery,bulk", "WORKER_CONCURRENCY": "8", "WORKER_POOL": "prefork"},
        [
            "-m celery -A config worker --loglevel INFO --pool prefork --concurrency 8 "
            "--queues celery,bulk --prefetch-multiplier 1"
        ],
    ),
    (("beat",), {"LOG_LEVEL": "WARNING"}, ["-m celery -A config beat --loglevel WARNING"]),
    (
        ("migrate",),
        {},
        ["manage.py check --deploy --fail-level ERROR", "manage.py migrate --noinput"],
    ),
    (("metrics",), {}, ["manage.py hireops_metrics --bind 0.0.0.0:9108"]),
    (
        ("metrics",),
        {"PORT": "9200", "BIND_HOST": "127.0.0.1"},
        ["manage.py hireops_metrics --bind 127.0.0.1:9200"],
    ),
    (("status", "--json"), {}, ["manage.py hireops_status --json"]),
]


@pytest.fixture
def stand_in_python(tmp_path):
    """A directory whose ``python`` prints ``PID ARGS`` and succeeds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text('#!/bin/sh\necho "$$ $*"\n')
    python.chmod(0o755)
    return bin_dir


def run(*args: str, path=None, **env) -> tuple[subprocess.Popen, str]:
    """The entry point with ``path`` first on PATH, in a clean environment: no setting of the
    machine running the tests leaks in."""
    proc = subprocess.Popen(
        [str(ENTRYPOINT), *args],
        env={"PATH": os.pathsep.join([*([str(path)] if path else []), "/usr/bin", "/bin"]), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, _ = proc.communicate(timeout=30)
    return proc, output


def _id(args: tuple, env: dict) -> str:
    return " ".join([*args, *(f"{name}={value}" for name, value in env.items())])


@pytest.mark.parametrize(
    ("args", "env", "lines"), COMMAND_LINES, ids=[_id(a, e) for a, e, _ in COMMAND_LINES]
)
def test_each_subcommand_becomes_its_program(stand_in_python, args, env, lines):
    proc, output = run(*args, path=stand_in_python, **env)
    assert proc.returncode == 0, output
    printed = [line.split(" ", 1) for line in output.splitlines()]
    assert [argv for _, argv in printed] == lines
    # The last program replaced the entry point (migrate's check runs first, as a child).
    assert int(printed[-1][0]) == proc.pid


def test_anything_else_runs_as_given_with_its_exit_status(stand_in_python):
    proc, output = run("sh", "-c", 'echo "$$"; exit 3', path=stand_in_python)
    assert proc.returncode == 3 and int(output) == proc.pid


def test_no_subcommand_says_how_to_use_it(stand_in_python):
    proc, output = run(path=stand_in_python)
    assert proc.returncode == 2 and output.startswith(
        "usage: entrypoint.sh admin|ingest|worker|beat|migrate|metrics|listen"
    )


def test_a_failed_deployment_check_stops_migrate_before_it_migrates(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text('#!/bin/sh\necho "$*"\n[ "$2" != check ]\n')  # the check fails
    (bin_dir / "python").chmod(0o755)
    proc, output = run("migrate", path=bin_dir)
    assert proc.returncode == 1 and output.splitlines() == ["manage.py check --deploy --fail-level ERROR"]


def test_the_shared_metrics_folder_is_created_and_never_emptied(tmp_path):
    shared = tmp_path / "run" / "hireops" / "metrics"
    proc, output = run("sh", "-c", 'ls -A "$PROMETHEUS_MULTIPROC_DIR"', PROMETHEUS_MULTIPROC_DIR=str(shared))
    assert proc.returncode == 0 and output == "" and shared.is_dir()

    # Another container's process is writing its samples there.
    (shared / "counter_7.db").write_bytes(b"samples")
    proc, output = run("sh", "-c", 'ls -A "$PROMETHEUS_MULTIPROC_DIR"', PROMETHEUS_MULTIPROC_DIR=str(shared))
    assert output.split() == ["counter_7.db"]
    assert (shared / "counter_7.db").read_bytes() == b"samples"
