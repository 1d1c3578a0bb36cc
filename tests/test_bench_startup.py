"""Every benchmark starts as the README runs it (``.venv/bin/python bench/x.py``): from a bare
shell, without Django's settings or the metrics directory they set. A start-up crash
(bench/webhook.py and bench/overload.py once died importing the Feishu client, which pulled in
the metrics module) fails here instead of on the next person to measure."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
LIBRARIES = {
    "seed.py",
    "seed_calls.py",
    "support.py",
    "sdk_receiver.py",
    "sdk_ws_client.py",
    "cpu_shares.py",
    "inbox_state.py",
}  # not run on their own: imported, or the peers the benchmarks start
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name not in LIBRARIES)


def test_every_benchmark_is_a_script_with_options():
    assert len(SCRIPTS) >= 8
    for name in SCRIPTS:
        assert "argparse" in (BENCH / name).read_text(), f"{name}: give it --help like the others"


# Each script as ``python bench/x.py --help`` runs it: forked from one child Python that
# imported nothing of the project, with the script's folder first on sys.path (where Python
# puts it, and not the repository: a script must add that itself), run as ``__main__``.
# One interpreter and one pytest test's setup for all of them, where each used to start its
# own; every script still starts from a state no other script touched.
EACH_FORKED = """
import json, os, runpy, sys, tempfile

bench, names = sys.argv[1], sys.argv[2:]
results = {}
for name in names:
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.path[0] = bench
        sys.argv = [os.path.join(bench, name), "--help"]
        code = 0
        try:
            runpy.run_path(sys.argv[0], run_name="__main__")
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    out.seek(0)
    err.seek(0)
    results[name] = {
        "returncode": os.waitstatus_to_exitcode(status),
        "stdout": out.read().decode(errors="replace"),
        "stderr": err.read().decode(errors="replace")[-3000:],
    }
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def started_from_a_bare_shell(tmp_path_factory):
    keep = ("PATH", "HOME", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["HIREOPS_VAR_DIR"] = str(tmp_path_factory.mktemp("bench"))  # scratch files of settings some load
    done = subprocess.run(
        [sys.executable, "-c", EACH_FORKED, str(BENCH), *SCRIPTS],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", SCRIPTS)
@pytest.mark.processes
def test_a_benchmark_starts_from_a_bare_shell(name, started_from_a_bare_shell):
    done = started_from_a_bare_shell[name]
    assert done["returncode"] == 0, done["stderr"]
    assert done["stdout"].startswith("usage:")


STARTS_THE_SANDBOX = """
from bench.support import free_port, start_sandbox, wait_for_sandbox
from sandbox.control import SandboxControl

port = free_port()
process = start_sandbox(port)
try:
    control = SandboxControl(f"http://127.0.0.1:{port}")
    wait_for_sandbox(control)
    print(control.state()["default_tenant"])
finally:
    process.terminate()
    process.wait(10)
"""


@pytest.mark.processes
def test_the_benchmarks_sandbox_starts_from_a_bare_shell(tmp_path):
    """The benchmarks' Feishu is ``manage.py feishu_sandbox`` in a child process: it must start
    where nothing installed the emulator yet (it is installed only with FEISHU_SANDBOX=1)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["HIREOPS_VAR_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", STARTS_THE_SANDBOX],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "demo-tenant"


@pytest.mark.django_db
@pytest.mark.second_factor_unproven  # the suite's own shortcut would prove it for the benchmark
def test_the_admin_benchmark_signs_in_as_staff_do(django_user_model):
    """bench/admin.py measures every page as each role: a role that needs the second factor
    (a superuser, a withdrawer) must be measured on the page, not on the redirect to prove it."""
    from django.test import Client

    from bench.admin import _signed_in

    superuser = django_user_model.objects.create_superuser("bench-root", password="Pw-123456!")
    assert _signed_in(superuser).get("/admin/").status_code == 200
    bare = Client()
    bare.force_login(superuser)
    assert bare.get("/admin/").status_code == 302  # what the benchmark measured before
