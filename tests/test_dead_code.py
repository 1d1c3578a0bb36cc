"""Code nothing uses is reported by ./dev lint (vulture, configured in pyproject.toml), and what
vulture_whitelist.py excuses is exactly what vulture would report otherwise: an entry whose code
went away, or became used, fails here until it is removed."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from vulture import Vulture

from tests.conftest import ROOT

CONFIG = tomllib.loads(Path(ROOT, "pyproject.toml").read_text())["tool"]["vulture"]
WHITELIST = "vulture_whitelist.py"
VULTURE = Path(sys.executable).parent / "vulture"


def unused(paths: list[Path]) -> list:
    """What vulture reports in ``paths`` at the configured confidence."""
    found = Vulture()
    found.scavenge([str(path) for path in paths])
    return found.get_unused_code(min_confidence=CONFIG["min_confidence"])


@pytest.mark.processes
def test_lint_finds_no_unused_code():
    """``vulture`` as ./dev lint runs it: its configuration from pyproject.toml."""
    done = subprocess.run([str(VULTURE)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_whitelist_excuses_exactly_what_vulture_reports_without_it():
    assert WHITELIST in CONFIG["paths"]
    packages = [Path(ROOT, path) for path in CONFIG["paths"] if path != WHITELIST]
    reported = {item.name for item in unused(packages)}
    tree = ast.parse(Path(ROOT, WHITELIST).read_text())
    excused = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert excused == reported, f"stale entries: {excused - reported}; unexcused: {reported - excused}"


def test_an_unused_import_or_argument_is_reported(tmp_path):
    dead = tmp_path / "dead.py"
    dead.write_text("import json\n\n\ndef handler(request, leftover):\n    return request\n")
    reported = {(item.typ, item.name) for item in unused([dead])}
    assert reported == {("import", "json"), ("variable", "leftover")}
