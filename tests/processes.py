"""pytest plugin: the ``processes`` marker, for tests that start real processes.

A test starts processes when it runs a Celery worker, a server, a child Python, a command or
a browser. Those are the slow ones and the ones a loaded machine can upset; the rest is a quick
loop for a developer:

    ./dev test -m "not processes"

A test is marked by what it asks for (a fixture below, or the ``browser`` marker) or by its own
``pytest.mark.processes``. The marker cannot lie by omission: in a test without it, starting a
process (``subprocess``, ``asyncio``'s subprocesses, ``multiprocessing``, ``os.fork``) fails
at once and says to mark the test.
"""

import os
import subprocess

import pytest

# Fixtures whose use means the test starts processes (tests/conftest.py, tests/feishu/conftest.py).
STARTS_PROCESSES = frozenset(
    {
        "start_celery_worker",
        "celery_worker",
        "start_ingest_server",
        "ingest_server",
        "start_admin_server",
        "admin_server",
        "start_listener",
        "collected_static",
    }
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "processes: starts real processes (a worker, a server, a child Python, a command, a browser); "
        '`-m "not processes"` is the quick loop',
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if STARTS_PROCESSES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.processes)


@pytest.fixture(autouse=True)
def _processes_only_when_marked(request, monkeypatch):
    if request.node.get_closest_marker("processes"):
        return

    def refused(*args, **kwargs):
        raise AssertionError(
            f"{request.node.nodeid} starts a process: mark it @pytest.mark.processes (tests/processes.py)"
        )

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refused)
    monkeypatch.setattr(os, "fork", refused)
    monkeypatch.setattr(os, "posix_spawn", refused, raising=False)
