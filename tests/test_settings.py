"""The settings as each kind of process reads them: production's from a bare environment (no
emulator, no working credentials), the emulator only where ``FEISHU_SANDBOX=1`` asks for it and
only where it is installed, and the test suite's own module."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.conftest import ROOT

pytestmark = pytest.mark.processes  # each but one runs the settings in a child Python

READ = """
import json, sys
{before}
import django
django.setup()
from django.conf import settings
print(json.dumps({{
    "sandbox": "sandbox" in settings.INSTALLED_APPS,
    "app_id": settings.FEISHU_APP_ID,
    "app_secret": settings.FEISHU_APP_SECRET,
}}))
"""


def bare_shell(tmp_path, **env) -> dict:
    """A process started from a bare shell, on the product's settings unless ``env`` says."""
    return {
        "PATH": "/usr/bin:/bin",
        "HIREOPS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def read_settings(tmp_path, before: str = "", **env) -> subprocess.CompletedProcess:
    """The settings such a process reads."""
    return run(["-c", READ.format(before=before)], bare_shell(tmp_path, **env))


def check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    """``check --deploy`` as a deployment runs it, with a real secret key."""
    key = "k9#Vq2!rT7xL0pZ4wE8uY1sB6nM3cH5jA2dF9gK7lQ0-a-real-one"
    shell = bare_shell(tmp_path, SECRET_KEY=key, **env)
    return run(["manage.py", "check", "--deploy", "--fail-level", "ERROR"], shell)


def test_production_settings_have_no_emulator_and_no_working_credentials(tmp_path):
    done = read_settings(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sandbox": False, "app_id": "", "app_secret": ""}


def test_a_deployment_without_its_own_credentials_is_refused_by_the_deployment_checks(tmp_path):
    done = check_deploy(tmp_path)
    assert done.returncode != 0
    assert "hireops.E002" in done.stderr and "FEISHU_APP_ID and FEISHU_APP_SECRET not set" in done.stderr

    done = check_deploy(tmp_path, FEISHU_APP_ID="cli_real", FEISHU_APP_SECRET="real-secret")
    assert "hireops.E002" not in done.stderr, done.stderr


def test_the_emulator_is_installed_where_it_is_asked_for_with_its_demo_app(tmp_path):
    done = read_settings(tmp_path, FEISHU_SANDBOX="1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "sandbox": True,
        "app_id": "cli_sandbox_demo",
        "app_secret": "sandbox-demo-secret",
    }


def test_asking_for_the_emulator_where_it_is_not_installed_says_so(tmp_path):
    """The production image has no ``sandbox`` package: a start with FEISHU_SANDBOX=1 stops with
    the reason, not with an ImportError deep inside Django."""
    hidden = "sys.modules['sandbox'] = None  # as in the production image: no such package"
    done = read_settings(tmp_path, before=hidden, FEISHU_SANDBOX="1")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "the Feishu sandbox and its demo are not installed here" in done.stderr


def test_the_suite_runs_on_its_own_settings_module_with_the_emulator():
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "tests.settings"  # what every child inherits
    assert "sandbox" in settings.INSTALLED_APPS
