"""The layers of the project are import contracts (pyproject.toml, ``[tool.importlinter]``),
checked by ``./dev lint``. Each contract is shown to catch what it forbids: the same check
run on a copy of the tree with one forbidden import added fails, naming the contract."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.processes  # every test here starts one

PACKAGES = ("config", "hireops", "bindings", "referrals", "orders", "sandbox", "demo")
LINT = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PATH": str(LINT.parent), "PYTHONPATH": str(tree), "COLUMNS": "400"},  # one line per contract
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("hireops/feishu/errors.py", "import hireops.ops.metrics", "The Feishu client stands on nothing"),
        ("hireops/ops/probes.py", "import config.celery", "Layers:"),  # the composition root is on top
        # The engine names no callee: Feishu's meets it one layer up (hireops.feishu_calls).
        ("hireops/outbound/retry.py", "import hireops.feishu", "The outbound engine knows nothing of Feishu"),
        (
            "hireops/outbound/__init__.py",
            "import hireops.feishu_calls.failures",
            "The outbound engine knows nothing of Feishu",
        ),
        ("hireops/core/display.py", "import hireops.events.models", "Layers:"),
        ("hireops/ops/status.py", "import hireops.tenants.models", "Layers:"),
        ("hireops/events/services.py", "import bindings.models", "Layers:"),
        ("referrals/models.py", "import orders.models", "Layers:"),
        ("bindings/models.py", "import referrals.models", "Layers:"),
        ("orders/models.py", "import referrals.models", "The apps are independent"),
        ("bindings/models.py", "import orders.models", "Layers:"),
        ("sandbox/state.py", "import hireops.events.models", "The Feishu emulator stands outside"),
        ("sandbox/state.py", "import referrals.models", "The Feishu emulator stands outside"),
        (
            "orders/models.py",
            "import sandbox.state",
            "Nothing of the product imports the Feishu emulator",
        ),
        # Inside the HR side: a sub-package importing one above it, or its independent neighbour.
        ("referrals/rewards/services.py", "import referrals.payouts.models", "Sub-packages of the HR side"),
        (
            "referrals/rewards/services.py",
            "import referrals.withdrawals.services",
            "Sub-packages of the HR side",
        ),
        # Inside an app: a service importing the tasks module that imports it.
        ("referrals/withdrawals/services.py", "import referrals.tasks", "No import cycle inside a package"),
        (
            "hireops/webhooks/events.py",
            "import hireops.webhooks.delivery",
            "No import cycle inside a package",
        ),
        ("sandbox/eco_catalogue.py", "import sandbox.state", "No import cycle inside a package"),
        # The catalogue reads orders' exams; orders' models may not name the catalogue back.
        ("orders/models.py", "import orders.catalogue.models", "No import cycle inside a package"),
        # A service importing the API operations that call it.
        ("orders/catalogue/services.py", "import orders.api.catalogue", "No import cycle inside a package"),
    ],
)
def test_an_import_against_the_layers_fails_lint(tree, module, line, contract):
    path = tree / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # the deliberate mistake\n")
    try:
        done = lint(tree)
    finally:
        path.write_text(original)
    assert done.returncode != 0
    broken = [row for row in done.stdout.splitlines() if " BROKEN" in row]  # "BROKEN (1 ignored import)"
    assert any(row.startswith(contract) for row in broken), done.stdout[-3000:]
