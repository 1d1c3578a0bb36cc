"""The management commands: ``feishu_sandbox`` (server) and ``feishu_sandbox_ctl`` (human control)."""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sandbox.control import SandboxControl

from .helpers import create_account, tenant_token

ROOT = Path(__file__).resolve().parents[2]


def ctl(sandbox, *args):
    out = StringIO()
    call_command("feishu_sandbox_ctl", "--url", sandbox.url, *args, stdout=out)
    return json.loads(out.getvalue())


def test_every_ctl_command_and_option_says_what_it_does():
    """``./dev sandbox --help`` and each command's --help describe everything they list."""
    from sandbox.management.commands.feishu_sandbox_ctl import Command

    parser = Command().create_parser("manage.py", "feishu_sandbox_ctl")
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    undescribed = [c.dest for c in commands._choices_actions if not c.help]
    for name, command in [("", parser), *commands.choices.items()]:
        undescribed += [
            f"{name} {action.dest}".strip()
            for action in command._actions
            if not action.help and action is not commands and action.dest != "help"
        ]
    assert len(commands.choices) > 30 and not undescribed, undescribed


def test_ctl_grant_bind_requests(sandbox):
    aid = create_account(sandbox, tenant_token(sandbox), email="na.li@demo.example")["account_id"]
    result = ctl(sandbox, "grant-bonus", aid, "--points", "100", "--cash", "CNY:12.50")
    assert result["account"]["assets"]["confirmed_bonus"] == {
        "point_bonus": 100,
        "cash_bonus": [{"currency_type": "CNY", "amount": 12.5}],
    }
    event = ctl(sandbox, "bind-account", "--scope", "1", "--field", "account_token=ABC123")
    assert event["event"]["custom_field_list"] == [{"key": "account_token", "value": "ABC123"}]
    assert [r["path"] for r in ctl(sandbox, "requests")][-1] == "/open-apis/hire/v1/referral_account"
    assert ctl(sandbox, "app-ticket")["event"]["type"] == "app_ticket"
    with pytest.raises(CommandError, match="does not exist"):
        ctl(sandbox, "grant-bonus", "404", "--points", "1")


def test_ctl_clock_shows_and_advances(sandbox):
    assert ctl(sandbox, "clock")["offset"] == 0
    assert ctl(sandbox, "clock", "--advance", "90")["offset"] == 90
    assert ctl(sandbox, "clock", "--advance", "30m")["offset"] == 90 + 1800
    assert ctl(sandbox, "clock", "--advance", "1.5h")["offset"] == 90 + 1800 + 5400
    assert ctl(sandbox, "clock", "--advance", "1d")["offset"] == 90 + 1800 + 5400 + 86400
    with pytest.raises(CommandError, match="duration"):
        ctl(sandbox, "clock", "--advance", "soon")
    with pytest.raises(CommandError, match="only moves forward"):
        ctl(sandbox, "clock", "--advance=-1h")
    assert sandbox.clock()["offset"] == 90 + 1800 + 5400 + 86400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.processes
def test_feishu_sandbox_command_serves_and_stops_cleanly(tmp_path):
    port, ws_port = _free_port(), _free_port()
    directory = tmp_path / "dir.json"
    directory.write_text(
        json.dumps(
            {
                "default_tenant": "t-one",
                "tenants": [{"tenant_key": "t-one"}],
                "employees": [{"name": "唯一", "email": "only@x.example"}],
            }
        )
    )
    env = {**os.environ, "FEISHU_APP_ID": "cli_cmd", "FEISHU_APP_SECRET": "cmd-secret"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "feishu_sandbox",
            "--port",
            str(port),
            "--ws-port",
            str(ws_port),
            "--delivery",
            "long_connection",
            "--encrypt-key",
            "k1",
            "--verification-token",
            "v1",
            "--directory",
            str(directory),
            "--token-ttl",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    control = SandboxControl(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                state = control.state()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert state["default_tenant"] == "t-one" and state["token_ttl"] == 60
        assert state["employees"][0]["email"] == "only@x.example"
        assert control.config()["encrypt_key"] == "k1" and control.config()["verification_token"] == "v1"
        import requests

        body = requests.post(
            control.url + "/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": "cli_cmd", "app_secret": "cmd-secret"},
            timeout=5,
        ).json()
        assert body["code"] == 0 and body["expire"] == 60
        assert control.config()["delivery"] == "long_connection"
        creds = {"AppID": "cli_cmd", "AppSecret": "cmd-secret"}
        endpoint = requests.post(control.url + "/callback/ws/endpoint", json=creds, timeout=5).json()
        assert endpoint["data"]["URL"].startswith(f"ws://127.0.0.1:{ws_port}/ws/v2?")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Feishu sandbox stopped." in out
    assert f"Long connection on ws://127.0.0.1:{ws_port} " in out


def test_ctl_orders(sandbox):
    ctl(sandbox, "bind-account", "--scope", "1", "--field", "org_id=ACME-001")
    account = sandbox.state()["eco_accounts"][-1]["account_id"]
    sandbox.seed_catalogue(account, packages={"pkg-basic": {"name": "基础套餐"}})
    created = ctl(
        sandbox,
        "create-background-check",
        "--account",
        account,
        "--package",
        "pkg-basic",
        "--candidate",
        "王二",
    )
    assert created["header"]["event_type"] == "hire.eco_background_check.created_v1"
    assert (created["event"]["package_id"], created["event"]["candidate_info"]["name"]) == (
        "pkg-basic",
        "王二",
    )
    check_id = created["event"]["background_check_id"]
    canceled = ctl(sandbox, "cancel-background-check", check_id, "--reason", "候选人放弃")
    assert canceled["event"] == {"background_check_id": check_id, "termination_reason": "候选人放弃"}
    with pytest.raises(CommandError, match="canceled already"):
        ctl(sandbox, "cancel-background-check", check_id)
    ctl(sandbox, "bind-account", "--scope", "2")
    exam_account = sandbox.state()["eco_accounts"][-1]["account_id"]
    sandbox.seed_catalogue(exam_account, papers=[{"id": "paper-1", "name": "春季测评"}])
    exam = ctl(sandbox, "create-exam", "--account", exam_account, "--paper", "paper-1")
    assert ctl(sandbox, "grade-exam", exam["event"]["exam_id"])["status"] == "graded"


def test_ctl_long_connection(sandbox):
    assert ctl(sandbox, "longconn-connections") == []
    assert ctl(sandbox, "longconn-refuse", "--count", "2") == {
        "count": 2,
        "status": 514,
        "autherrcode": 1000040350,
        "msg": "scripted refusal",
    }
    assert ctl(sandbox, "longconn-refuse", "--status", "503", "--msg", "busy")["autherrcode"] is None
    assert ctl(sandbox, "longconn-lose-acks", "--count", "3") == {"acks_to_lose": 3}
    assert ctl(sandbox, "longconn-stall") == {"stalled": 0}
    assert ctl(sandbox, "longconn-drop", "--abort") == {"dropped": 0}
    assert ctl(sandbox, "config")["delivery"] == "webhook"


def test_delivery_defaults_to_the_app_s_transport(settings):
    from sandbox.management.commands.feishu_sandbox import _default_delivery

    for transport, delivery in (
        ("webhook", "webhook"),
        ("long_connection", "long_connection"),
        ("both", "long_connection"),  # a real app gets each event on one channel
    ):
        settings.FEISHU_EVENT_TRANSPORT = transport
        assert _default_delivery() == delivery
    del settings.FEISHU_EVENT_TRANSPORT
    assert _default_delivery() == "webhook"
