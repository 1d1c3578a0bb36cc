"""``./dev run`` gives the processes it starts the site's zone (TZ from TIME_ZONE, else .env's
TIME_ZONE): honcho's prefixes and the lines of a process that has no Django settings (gunicorn's
master) are in it, not in the machine's zone.

The real ``dev`` script and the real honcho run in a copy of the checkout's entry points whose
Python does nothing for ``manage.py`` (no migration, no demo) and whose Procfile's processes
log one line through the project's formatter and wait: the stack's steps before honcho are
skipped, the zone's way into every process is not.
"""

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.processes

PROCESSES = ("metrics", "web", "ingest", "worker", "beat", "sandbox")  # FEISHU_EVENT_TRANSPORT=webhook
# What gunicorn's master does: the project's plain formatter, no Django settings loaded.
LOG_ONE_LINE = (
    "import logging, sys; from hireops.core.logs.formatting import PlainFormatter; "
    "h = logging.StreamHandler(sys.stdout); h.setFormatter(PlainFormatter('%(asctime)s %(message)s')); "
    "logging.getLogger('zone').addHandler(h); logging.getLogger('zone').warning('started')"
)


@pytest.fixture
def checkout(tmp_path):
    """``dev``, its locks (ensure_venv finds them installed), a .venv whose python runs no
    manage.py command, the real honcho, and a Procfile of processes that log a line."""
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    for lock in ROOT.glob("requirements*.txt"):
        shutil.copy(lock, tmp_path / lock.name)
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    digest = subprocess.run(  # as dev itself computes it, in the shell's order of the files
        ["bash", "-c", "cat requirements*.txt | sha256sum | cut -c1-16"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout
    (tmp_path / ".venv" / ".installed-requirements-dev.txt").write_text(digest)
    python = venv / "python"
    python.write_text(f'#!/bin/sh\n[ "$1" = manage.py ] && exit 0\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    (venv / "honcho").symlink_to(Path(sys.executable).parent / "honcho")
    lines = [f'{name}: python -c "{LOG_ONE_LINE}" && sleep 30' for name in PROCESSES]
    lines[1] = f'web: python -c "{LOG_ONE_LINE}"'  # the first to end: honcho stops the others
    (tmp_path / "Procfile").write_text("\n".join(lines) + "\n")
    return tmp_path


def dev_run(checkout: Path, env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("TZ", "TIME_ZONE", "DJANGO_SETTINGS_MODULE")}
    clean.update(PYTHONPATH=str(ROOT), HIREOPS_VAR_DIR=str(checkout / "var"), **env)
    done = subprocess.run(
        ["./dev", "run"], cwd=checkout, env=clean, capture_output=True, text=True, timeout=120
    )
    return done.stdout + done.stderr


def offset(zone: str) -> str:
    return datetime.now(ZoneInfo(zone)).isoformat()[-6:]  # "+05:45"


def assert_in_zone(output: str, zone: str) -> None:
    logged = re.findall(r"\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})([+-]\d\d:\d\d) started", output)
    assert len(logged) >= 1, output
    assert {o for _t, o in logged} == {offset(zone)}, output
    # honcho's own prefix ("10:15:02 web.1 | …") is the same clock as the line it prefixes.
    prefixed = re.findall(r"^(\d\d:\d\d):\d\d web\.1\s+\| (\d{4}-\d\d-\d\d) (\d\d:\d\d)", output, re.M)
    assert prefixed and all(hm == line_hm for hm, _day, line_hm in prefixed), output
    assert f"times: {zone} (UTC{offset(zone)})" in output


def test_the_processes_log_in_the_zone_of_dot_env(checkout):
    (checkout / ".env").write_text("TIME_ZONE=UTC\nTIME_ZONE=Asia/Kathmandu\n")  # the last one counts
    assert_in_zone(dev_run(checkout, {}), "Asia/Kathmandu")


def test_the_environments_time_zone_wins_over_dot_env(checkout):
    (checkout / ".env").write_text("TIME_ZONE=Asia/Kathmandu\n")
    assert_in_zone(dev_run(checkout, {"TIME_ZONE": "America/St_Johns"}), "America/St_Johns")


def test_without_a_zone_they_log_in_shanghais(checkout):
    assert_in_zone(dev_run(checkout, {}), "Asia/Shanghai")
