"""A process's start pauses the garbage collector until every app is ready (config.startup),
and leaves out what only a few pages need."""

import gc
import json
import subprocess
import sys

import pytest
from django.conf import settings

from config import startup
from tests.conftest import ROOT, subprocess_env

SEEN_BY_A_STARTING_PROCESS = """
import gc, json, sys
import config
paused = gc.get_threshold()
import django
django.setup()
print(json.dumps({"paused": paused, "after": gc.get_threshold(), "frozen": gc.get_freeze_count(),
    "loaded_early": [name for name in ("fido2", "xlsxwriter") if name in sys.modules]}))
"""


@pytest.mark.processes
def test_the_collector_waits_while_the_apps_load_and_runs_as_before_once_they_are_ready():
    result = subprocess.run(
        [sys.executable, "-c", SEEN_BY_A_STARTING_PROCESS],
        cwd=ROOT,
        env=subprocess_env(DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert tuple(seen["paused"]) == startup.PAUSED_THRESHOLDS
    assert tuple(seen["after"]) == (700, 10, 10)  # CPython's own, as before the start
    assert seen["frozen"] > 100_000  # what the start made, out of the collector's sight
    # Security keys' library (fido2 reads the public suffix list at import) loads with their
    # pages' forms (hireops.signin.security_key_forms), and the workbook writer with the one
    # export that writes a workbook, not in every worker and command.
    assert seen["loaded_early"] == []


def test_the_app_that_ends_the_start_is_installed_last():
    assert settings.INSTALLED_APPS[-1] == "config.startup.apps.StartedConfig"


def test_resume_puts_back_the_thresholds_pause_found():
    before = gc.get_threshold()
    startup.pause()
    try:
        assert gc.get_threshold() == startup.PAUSED_THRESHOLDS
        startup.pause()  # a second pause keeps the thresholds the first one found
    finally:
        startup.resume()
    assert gc.get_threshold() == before
    startup.resume()  # nothing paused: nothing changes
    assert gc.get_threshold() == before
