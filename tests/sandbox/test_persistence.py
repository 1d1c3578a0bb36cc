"""A sandbox with a state file is the same Feishu after a restart (./dev run's demo), and
starts from the seed again when asked; tests' sandboxes keep nothing (sandbox/persistence.py)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from sandbox import persistence
from sandbox.control import SandboxControl
from sandbox.persistence import FORMAT, StateFileError
from sandbox.server import SandboxServer
from sandbox.state import DEMO_DIRECTORY
from tests.conftest import ROOT, subprocess_env

from .helpers import ASSETS, HIRE, call, create_account, tenant_token

PACKAGES = HIRE + "/eco_background_check_packages"


def _sandbox(state_file, **extra) -> SandboxControl:
    server = SandboxServer(
        app_id=settings.FEISHU_APP_ID,
        app_secret=settings.FEISHU_APP_SECRET,
        directory_file=DEMO_DIRECTORY,
        state_file=state_file,
        **extra,
    ).start()
    control = SandboxControl(server.url)
    control.server = server
    return control


def _what_feishu_has(control) -> dict:
    state = control.state()
    state.pop("token_ttl")  # the start's configuration, not state
    return state


def test_a_restarted_sandbox_has_what_it_had(tmp_path):
    state_file = tmp_path / "sandbox-state.json"
    first = _sandbox(state_file)
    try:
        token = tenant_token(first)
        bound = first.bind_account(scope=1, custom_field_list=[{"key": "org_id", "value": "GLX-002"}])
        account_id = bound["event"]["account_id"]
        package = {"account_id": account_id, "package_list": [{"id": "pkg-basic", "name": "基础套餐"}]}
        assert call(first, "POST", PACKAGES, token, json=package).json()["code"] == 0
        referral = create_account(first, token, mobile={"code": "86", "number": "13800001006"})
        first.grant_bonus(
            referral["account_id"], point_bonus=7, cash=[{"currency_type": "CNY", "amount": 1.5}]
        )
        bot = first.create_bot(token="alerts", secret="s3cret")
        first.add_employee("新同事", email="new@demo.example")
        first.install_tenant("initech-tenant", name="英尼泰克")  # a tenant and its name in Feishu
        first.advance_clock(60)
        before = _what_feishu_has(first)
    finally:
        first.server.stop()

    second = _sandbox(state_file)
    try:
        assert _what_feishu_has(second) == before
        assert second.server.restored_from is not None
        # The account is still bound, with its catalogue: the same create is refused as a
        # repeat, and the token issued before the restart still opens the API.
        assert call(second, "POST", PACKAGES, token, json=package).json()["code"] == 1002001
        query = {"referral_account_id": referral["account_id"]}
        got = call(second, "GET", ASSETS, token, params=query).json()
        assert got["data"]["account"]["assets"]["confirmed_bonus"]["point_bonus"] == 7, got
        assert second.clock()["offset"] >= 60
        assert second.state()["tenant_names"]["initech-tenant"] == "英尼泰克"
        assert [b["token"] for b in second.bots()] == [bot["token"]]
    finally:
        second.server.stop()
    assert [p.name for p in tmp_path.iterdir()] == ["sandbox-state.json"]  # no temporary left behind


def test_the_state_is_written_while_the_sandbox_runs(tmp_path):
    """A sandbox killed without a chance to save (kill -9) loses a fraction of a second at most."""
    state_file = tmp_path / "state.json"
    control = _sandbox(state_file)
    try:
        account_id = control.bind_account(scope=2)["event"]["account_id"]
        deadline = time.monotonic() + 5
        while not state_file.exists() or account_id not in state_file.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, "the binding never reached the state file"
            time.sleep(0.05)
        saved = json.loads(state_file.read_text(encoding="utf-8"))
        assert saved["format"] == FORMAT and saved["app_id"] == settings.FEISHU_APP_ID
    finally:
        control.server.stop()


def test_a_stop_during_the_save_delay_saves_and_ends_at_once(tmp_path):
    """Stopped while a change waits out its delay (an account just bound, then Ctrl-C or docker
    stop): the last state is written and the sandbox ends then, not after the keeper's join
    gave up on a thread that missed the stop (5 s, every stop of ./dev run after a change)."""
    state_file = tmp_path / "state.json"
    control = _sandbox(state_file)
    keeper = control.server.keeper
    for _ in range(5):  # each stop lands inside the delay of the change just before
        account_id = control.bind_account(scope=2)["event"]["account_id"]
        time.sleep(persistence.SAVE_DELAY / 2)
        started = time.monotonic()
        keeper.stop()
        assert time.monotonic() - started < 1.0
        assert account_id in state_file.read_text(encoding="utf-8")
        keeper.start()
    control.server.stop()


def test_a_reset_on_purpose_starts_from_the_seed_and_stays_so(tmp_path):
    state_file = tmp_path / "state.json"
    control = _sandbox(state_file)
    try:
        control.bind_account(scope=1, account_id="bound-before-reset")
        control.reset()
    finally:
        control.server.stop()
    control = _sandbox(state_file)
    try:
        accounts = [a["account_id"] for a in control.state()["eco_accounts"]]
        assert accounts == ["demo-bound-1", "demo-review-1", "demo-exam-1"]  # the demo directory's alone
    finally:
        control.server.stop()


def test_a_state_saved_before_the_seed_gained_an_account_has_it_too(tmp_path):
    """The demo's back-office shows every account of the seed's ``eco_accounts``: a state file
    written when the seed had fewer still knows them all after the restart, and what it saved
    of its own stays."""
    state_file = tmp_path / "state.json"
    control = _sandbox(state_file)
    try:
        control.bind_account(scope=1, account_id="bound-by-a-customer")
    finally:
        control.server.stop()
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    eco = saved["state"]["eco_accounts"]
    saved["state"]["eco_accounts"] = [a for a in eco if a["account_id"] != "demo-review-1"]
    state_file.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    control = _sandbox(state_file)
    try:
        accounts = {a["account_id"] for a in control.state()["eco_accounts"]}
        assert accounts == {"demo-bound-1", "demo-review-1", "demo-exam-1", "bound-by-a-customer"}
    finally:
        control.server.stop()


@pytest.mark.parametrize(
    "content",
    [
        '{"format": 99, "state": {}}',
        "{not json",
        json.dumps({"format": FORMAT, "app_id": "cli_other", "state": {}}),
    ],
)
def test_a_state_file_the_sandbox_cannot_use_is_refused_not_half_read(tmp_path, content):
    state_file = tmp_path / "state.json"
    state_file.write_text(content, encoding="utf-8")
    with pytest.raises(StateFileError):
        SandboxServer(app_id=settings.FEISHU_APP_ID, app_secret="s", state_file=state_file)
    assert state_file.read_text(encoding="utf-8") == content  # left for a person to look at


def _start_command(port, state_file):
    command = [
        sys.executable, "manage.py", "feishu_sandbox", "--port", str(port), "--ws-port", "0",
        "--directory", str(DEMO_DIRECTORY), "--state-file", str(state_file),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    control = SandboxControl(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            control.state()
            return proc, control
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"the sandbox did not start: {proc.communicate()}") from None
            time.sleep(0.1)


def _stop(proc) -> str:
    proc.send_signal(signal.SIGTERM)  # what honcho sends on Ctrl-C
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return out


@pytest.mark.processes
def test_the_sandbox_command_keeps_its_state_across_a_restart(tmp_path):
    from tests.sandbox.test_commands import _free_port

    port, state_file = _free_port(), tmp_path / "sandbox-state.json"
    proc, control = _start_command(port, state_file)
    try:
        account_id = control.bind_account(scope=1, account_name="Globex 背调账号")["event"]["account_id"]
    finally:
        first = _stop(proc)
    assert f"State from the seed; kept in {state_file}" in first

    proc, control = _start_command(port, state_file)
    try:
        bound = {a["account_id"]: a["account_name"] for a in control.state()["eco_accounts"]}
        assert bound[account_id] == "Globex 背调账号"
    finally:
        second = _stop(proc)
    assert f"State from {state_file} (saved " in second


@pytest.mark.processes
def test_bad_state_file_stops_the_command_with_the_way_out(tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text('{"format": 0}', encoding="utf-8")
    from tests.sandbox.test_commands import _free_port

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "feishu_sandbox",
            "--port",
            str(_free_port()),
            "--state-file",
            str(state_file),
        ],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "format 0" in result.stderr and "SANDBOX_RESET=1 ./dev run" in result.stderr


def test_the_test_suite_never_reads_the_demos_state_file():
    """./dev run's sandbox keeps var/sandbox-state.json; a test's sandbox starts from the seed."""
    assert settings.SANDBOX_STATE_FILE == ""
    assert "SANDBOX_STATE_FILE" not in os.environ and "SANDBOX_STATE_FILE" not in subprocess_env()
