"""The ``./dev sandbox`` commands of the README and the docs (``manage.py feishu_sandbox_ctl``
with the emulator installed) run as written, from a second shell that has none of ./dev run's
environment: they work and print nothing on stderr (no system check warnings about the
product's servers, hireops.W001); the deployment checks and the servers still warn."""

import io
import os
import re
import subprocess

import pytest
from django.conf import settings
from django.core import checks
from django.core.management import call_command

from sandbox.control import SandboxControl
from sandbox.server import SandboxServer
from sandbox.state import DEMO_DIRECTORY
from tests.conftest import ROOT

PLACEHOLDER = re.compile(r"[A-Z][A-Z_]+")  # a word to replace: grant-bonus ID …, install-tenant KEY


def readme_commands() -> list[list[str]]:
    """Each ``./dev sandbox …`` in the code of the README and the docs pages (command blocks,
    and spans wrapped or not), as the arguments after the command's name; those with a
    placeholder left out."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S)
    spans = re.findall(r"`([^`]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    found = []
    for code in blocks + spans:
        words = code.split()
        for i in [i for i, word in enumerate(words[1:], 1) if (words[i - 1], word) == ("./dev", "sandbox")]:
            args = []
            for word in words[i + 1 :]:
                if word.endswith(("python", "manage.py", "./dev")):  # the next command line
                    break
                args.append(word)
            if args and not any(PLACEHOLDER.fullmatch(word) for word in args):
                found.append(args)
    return list({tuple(c): c for c in found}.values())  # once each, in the pages' order


def _demo_sandbox() -> SandboxControl:
    """./dev run's sandbox: the demo directory, and the demo catalogue on its bound accounts."""
    server = SandboxServer(
        app_id=settings.FEISHU_APP_ID, app_secret="s", directory_file=DEMO_DIRECTORY, ws_port=0
    ).start()
    control = SandboxControl(server.url)
    control.server = server
    return control


def _offer_demo_catalogue(control) -> None:
    control.seed_catalogue("demo-bound-1", packages={"pkg-senior": {"name": "高管套餐"}})
    control.seed_catalogue("demo-exam-1", papers=[{"id": "paper-spring", "name": "春季测评"}])


@pytest.mark.processes
def test_the_documented_sandbox_commands_run_clean_from_a_second_shell(tmp_path):
    commands = readme_commands()
    names = [c[0] for c in commands]
    assert {"bind-account", "create-background-check", "create-exam", "state", "create-bot"} <= set(names)
    # A second shell: no DEBUG, no webhook secrets, nothing of ./dev run's (the variable
    # directory apart, so that the run leaves no files in the work tree).
    shell = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "HIREOPS_VAR_DIR": str(tmp_path / "var")}
    control = _demo_sandbox()
    try:
        for args in commands:
            _offer_demo_catalogue(control)  # (a documented reset empties it)
            result = subprocess.run(
                [str(ROOT / "dev"), "sandbox", "--url", control.url, *args],
                cwd=ROOT,
                env=shell,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert (result.returncode, result.stderr) == (0, ""), args
            assert result.stdout.strip(), args
    finally:
        control.server.stop()


def test_the_deployment_checks_and_the_servers_warn_without_the_webhook_secrets(settings, caplog):
    """Where the missing secrets matter (check --deploy, a server answering the pushes), not on
    every manage.py command: ``check`` and any other command's checks say nothing of them."""
    settings.DEBUG = False
    settings.FEISHU_ENCRYPT_KEY = settings.FEISHU_VERIFICATION_TOKEN = ""
    assert "hireops.W001" not in [m.id for m in checks.run_checks()]
    plain = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=plain)
    assert "W001" not in plain.getvalue()
    assert "hireops.W001" in [m.id for m in checks.run_checks(include_deployment_checks=True)]
    from hireops.events.checks import warn_servers

    with caplog.at_level("WARNING", logger="hireops.events"):
        warn_servers()
    assert "cannot authenticate Feishu's pushes. (hireops.W001)" in caplog.text
