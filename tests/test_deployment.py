"""What a deployment relies on besides the code: the hashed locks and the per-test timeout."""

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\[\]-]+)==(\S+) \\$", re.M)


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def direct(path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in (ROOT / path).read_text().splitlines())
    return {_name(line) for line in lines if line and not line.startswith("-")}


def pins(path) -> dict[str, str]:
    return {name.lower(): version for name, version in PIN.findall((ROOT / path).read_text())}


LOCKS = [
    ("requirements.txt", ["requirements.in"]),
    ("requirements-dev.txt", ["requirements.in", "requirements-dev.in"]),
]


@pytest.mark.parametrize(("lock", "inputs"), LOCKS)
def test_each_lock_pins_every_direct_dependency_with_its_hashes(lock, inputs):
    text = (ROOT / lock).read_text()
    locked = pins(lock)
    for path in inputs:
        assert direct(path) <= set(locked), f"{path} has dependencies {lock} does not lock: ./dev lock"
    # Every pinned package is followed by at least one hash (pip --require-hashes needs them all).
    entries = re.split(r"\n(?=\S)", text)
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_tests_and_tools_run_on_the_same_versions_as_production():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


HANGS = """
import time

def test_hangs():
    time.sleep(60)
"""


@pytest.mark.processes
def test_a_hung_test_fails_with_its_stack_instead_of_hanging(tmp_path):
    (tmp_path / "test_hang.py").write_text(HANGS)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:django",
            "--timeout",
            "1",
            "-o",
            "addopts=",
            str(tmp_path / "test_hang.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode != 0
    assert "Timeout" in result.stdout and "time.sleep(60)" in result.stdout, result.stdout[-3000:]


def test_uv_is_installed_as_the_dev_lock_pins_it():
    """./dev installs the locks with uv, which comes from requirements-uv.txt: the dev lock's
    own entry for uv, its version and every hash (./dev lock writes it)."""
    entry = re.search(r"^uv==.*?(?=\n\S)", (ROOT / "requirements-dev.txt").read_text(), re.S | re.M)
    uv_lock = (ROOT / "requirements-uv.txt").read_text()
    assert entry and entry.group(0) in uv_lock
    assert pins("requirements-uv.txt") == {"uv": pins("requirements-dev.txt")["uv"]}
