"""The layers of the project are import contracts (pyproject.toml, ``[tool.importlinter]``),
checked by ``./dev lint``. Each contract is shown to catch what it forbids: the same check run
on a copy of the tree with forbidden imports added fails, naming the contract, and its report
names the deliberate import as what breaks it.

One run of lint-imports takes seconds, most of it building the import graph: the mistakes share
runs (``trees``), two copies of the tree with several mistakes each instead of one copy a mistake.
A mistake is credited only with what it breaks alone: a chain of imports that a layers or
forbidden contract reports counts for a mistake when the mistake's import is in it and no other
mistake's is; and no mistake shares a run with one that adds an import between the children of
the same package, where the contract against cycles counts imports (one mistake's cycle is then
never another's)."""

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.processes  # every test here starts one

PACKAGES = ("config", "hireops", "bindings", "referrals", "orders", "sandbox", "demo")
LINT = Path(sys.executable).parent / "lint-imports"
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


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


@dataclass(frozen=True)
class Mistake:
    """``line`` appended to ``module`` (a file of the tree) breaks the contract named ``contract``…"""

    module: str
    line: str
    contract: str

    @property
    def importer(self) -> str:
        parts = Path(self.module).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    @property
    def imported(self) -> str:
        return self.line.removeprefix("import ")

    @property
    def package(self) -> str:
        """The package whose children the import goes between ("": between two root packages):
        the one package whose cycles it can close."""
        common = []
        for a, b in zip(self.importer.split("."), self.imported.split("."), strict=False):
            if a != b:
                break
            common.append(a)
        return ".".join(common)

    def against_cycles(self) -> bool:
        [contract] = [c for c in CONTRACTS if c["name"].startswith(self.contract)]
        return contract["type"] == "acyclic_siblings"


MISTAKES = [
    Mistake("hireops/feishu/errors.py", "import hireops.ops.metrics", "The Feishu client stands on nothing"),
    Mistake("hireops/ops/probes.py", "import config.celery", "Layers:"),  # the composition root is on top
    # The engine names no callee: Feishu's meets it one layer up (hireops.feishu_calls).
    Mistake(
        "hireops/outbound/retry.py", "import hireops.feishu", "The outbound engine knows nothing of Feishu"
    ),
    Mistake(
        "hireops/outbound/__init__.py",
        "import hireops.feishu_calls.failures",
        "The outbound engine knows nothing of Feishu",
    ),
    Mistake("hireops/core/display.py", "import hireops.events.models", "Layers:"),
    Mistake("hireops/ops/status.py", "import hireops.tenants.models", "Layers:"),
    Mistake("hireops/events/services.py", "import bindings.models", "Layers:"),
    Mistake("referrals/models.py", "import orders.models", "Layers:"),
    Mistake("bindings/models.py", "import referrals.models", "Layers:"),
    Mistake("orders/models.py", "import referrals.models", "The apps are independent"),
    Mistake("bindings/models.py", "import orders.models", "Layers:"),
    Mistake("sandbox/state.py", "import hireops.events.models", "The Feishu emulator stands outside"),
    Mistake("sandbox/state.py", "import referrals.models", "The Feishu emulator stands outside"),
    Mistake("orders/models.py", "import sandbox.state", "Nothing of the product imports the Feishu emulator"),
    # Inside the HR side: a sub-package importing one above it, or its independent neighbour.
    Mistake(
        "referrals/rewards/services.py", "import referrals.payouts.models", "Sub-packages of the HR side"
    ),
    Mistake(
        "referrals/rewards/services.py",
        "import referrals.withdrawals.services",
        "Sub-packages of the HR side",
    ),
    # Inside an app: a service importing the tasks module that imports it.
    Mistake(
        "referrals/withdrawals/services.py", "import referrals.tasks", "No import cycle inside a package"
    ),
    Mistake(
        "hireops/webhooks/events.py", "import hireops.webhooks.delivery", "No import cycle inside a package"
    ),
    Mistake("sandbox/eco_catalogue.py", "import sandbox.state", "No import cycle inside a package"),
    # The catalogue reads orders' exams; orders' models may not name the catalogue back.
    Mistake("orders/models.py", "import orders.catalogue.models", "No import cycle inside a package"),
    # A service importing the API operations that call it.
    Mistake(
        "orders/catalogue/services.py", "import orders.api.catalogue", "No import cycle inside a package"
    ),
    # The HR side's API: one subject's operations importing another's, the scopes importing a schema.
    Mistake("referrals/api/accounts.py", "import referrals.api.rewards", "The HR side's API"),
    Mistake("referrals/api/scopes.py", "import referrals.api.schemas", "The HR side's API"),
]


def _apart(a: Mistake, b: Mistake) -> bool:
    """Whether two mistakes may share a run: not both imports between one package's children
    when either is credited with a cycle."""
    return not ((a.against_cycles() or b.against_cycles()) and a.package and a.package == b.package)


def trees(mistakes: list[Mistake]) -> list[list[Mistake]]:
    """The mistakes shared out into as few runs as ``_apart`` allows, in their order."""
    runs: list[list[Mistake]] = []
    for mistake in mistakes:
        run = next((run for run in runs if all(_apart(mistake, other) for other in run)), None)
        if run is None:
            runs.append(run := [])
        run.append(mistake)
    return runs


@dataclass
class Report:
    """One run of lint-imports on a tree with several mistakes: its exit code, its output, and
    the line number each mistake's import was written at."""

    returncode: int
    stdout: str
    lines: dict[Mistake, int]

    def broken(self) -> list[str]:
        return [row for row in self.stdout.splitlines() if " BROKEN" in row]  # "BROKEN (1 ignored import)"

    def section(self, contract: str) -> str:
        """The broken contract's part of the report (its title, then a rule of dashes)."""
        after = self.stdout.split("Broken contracts", 1)[-1]
        titled = re.split(r"\n(.+)\n-+\n", after)
        for title, body in zip(titled[1::2], titled[2::2], strict=True):
            if title.startswith(contract):
                return body
        return ""

    def edge(self, mistake: Mistake, row: str) -> bool:
        """Whether a chain's row (``a -> b (l.3, l.9)``) is ``mistake``'s import."""
        found = re.fullmatch(r"-?\s*(\S+) -> (\S+) \(([l.\d, ]+)\)", row.strip())
        if not found or found.group(1, 2) != (mistake.importer, mistake.imported):
            return False
        return str(self.lines[mistake]) in re.findall(r"\d+", found.group(3))

    def chain_of_its_own(self, mistake: Mistake) -> list[str] | None:
        """A chain of the mistake's contract with its import and no other mistake's."""
        chains = re.split(r"\n(?=-)", self.section(mistake.contract))
        for chain in chains:
            rows = [row for row in chain.strip().splitlines() if "->" in row]
            if any(self.edge(mistake, row) for row in rows) and not any(
                self.edge(other, row) for other in self.lines if other != mistake for row in rows
            ):
                return rows
        return None

    def cycle(self, mistake: Mistake) -> bool:
        """The cycle contract finds a cycle between the children of the mistake's package. No
        other mistake of the run adds an import there (``_apart``) and the tree has no cycle
        (``test_the_tree_keeps_every_contract``): the cycle is this mistake's. Which of its
        imports the report suggests removing is the tool's guess, not necessarily this one."""
        packages = self.section(mistake.contract).split("No cycles are allowed in ")
        return any(part.startswith(f"{mistake.package}.\n") for part in packages)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[Mistake, Report]:
    """Each mistake's report: a copy of the tree, each run's mistakes written into it, linted,
    then taken out again for the next run."""
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    found = {}
    for run in trees(MISTAKES):
        originals = {m.module: (copy / m.module).read_text() for m in run}
        lines = {}
        try:
            for mistake in run:
                path = copy / mistake.module
                text = path.read_text() + f"\n{mistake.line}  # the deliberate mistake\n"
                path.write_text(text)
                lines[mistake] = text.count("\n")
            done = lint(copy)
        finally:
            for module, text in originals.items():
                (copy / module).write_text(text)
        report = Report(done.returncode, done.stdout, lines)
        found.update(dict.fromkeys(run, report))
    return found


def test_the_runs_share_the_mistakes_out():
    runs = trees(MISTAKES)
    assert sorted(map(str, (m for run in runs for m in run))) == sorted(map(str, MISTAKES))
    assert len(runs) < len(MISTAKES) / 4  # the point of sharing them
    for run in runs:
        for a in run:
            assert all(_apart(a, b) for b in run if b != a), a
    # Two mistakes inside the HR side's package kept apart from the cycle credited there.
    cycle = MISTAKES[16]
    assert cycle.against_cycles() and cycle.package == "referrals"
    assert not _apart(cycle, MISTAKES[14]) and _apart(MISTAKES[14], MISTAKES[15])


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m.module}-{m.line}-{m.contract}" for m in MISTAKES])
def test_an_import_against_the_layers_fails_lint(reports, mistake):
    report = reports[mistake]
    assert report.returncode != 0
    assert any(row.startswith(mistake.contract) for row in report.broken()), report.stdout[-3000:]
    if mistake.against_cycles():
        assert report.cycle(mistake), report.section(mistake.contract)
    else:
        assert report.chain_of_its_own(mistake), report.section(mistake.contract)
