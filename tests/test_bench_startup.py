"""Every benchmark starts as the README runs it (``.venv/bin/python bench/x.py``): from a bare
shell, without Django's settings or the metrics directory they set. A start-up crash
(bench/webhook.py and bench/overload.py once died importing the Feishu client, which pulled in
the metrics module) fails here instead of on the next person to measure."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
LIBRARIES = {"seed.py", "support.py"}  # imported by the benchmarks, not run on their own
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name not in LIBRARIES)


def test_every_benchmark_is_a_script_with_options():
    assert len(SCRIPTS) >= 8
    for name in SCRIPTS:
        assert "argparse" in (BENCH / name).read_text(), f"{name}: give it --help like the others"


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_benchmark_starts_from_a_bare_shell(name, tmp_path):
    keep = ("PATH", "HOME", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["HIREOPS_VAR_DIR"] = str(tmp_path)  # scratch files of settings some benchmarks load
    done = subprocess.run(
        [sys.executable, str(BENCH / name), "--help"],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("usage:")
