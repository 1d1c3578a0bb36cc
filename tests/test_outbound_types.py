"""A kind of the outbound engine is typed over its row, body and answer (``hireops.outbound``):
mypy, with the project's configuration, refuses a kind whose callbacks disagree, and takes one
whose callbacks agree. Every registered kind says its types where it is registered: built inside
``outbound.register(...)``, a kind's callbacks are checked against the type it is declared with
(inferred in that call's context, an undeclared kind's would be taken unchecked)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each line marked "refused" must be an error, and no other line. One line a kind, so that
# an error's line says which kind it is.
KINDS = """# mypy: disable-error-code="empty-body"
from hireops import outbound
from hireops.feishu_calls.failures import Failure
from hireops.feishu import FeishuResponse as Answer
from hireops.feishu.tenant import TenantInfo as Info
from hireops.feishu_calls.callee import FEISHU as F
from hireops.feishu_calls.callee import FeishuKind as FK
from hireops.tenants.models import Tenant, TenantNameLookup

Row = TenantNameLookup
Kind = outbound.Outbound
register = outbound.register


def key(row: Row) -> str: ...
def ask(row: Row, tenant_key: str) -> Info: ...
def ask_int(row: Row, number: int) -> Info: ...
def named(row: Row, tenant_key: str, info: Info) -> None: ...
def answered(row: Row, tenant_key: str, resp: Answer) -> None: ...
def tkey(row: Tenant) -> str: ...
def task(row: Tenant, tenant_key: str) -> Info: ...
def waits(row: Row, tenant_key: str, exc: ValueError, failure: Failure) -> None: ...


A: FK[Row, str, Info] = Kind(name="a", model=Row, prepare=key, call=ask, callee=F, effect=named)
Kind(name="b", model=Row, prepare=key, call=ask_int, callee=F)  # refused: the body
Kind(name="c", model=Row, prepare=key, call=ask, callee=F, effect=answered)  # refused: the answer
Kind(name="d", model=Row, prepare=tkey, call=ask, callee=F)  # refused: the row
Kind(name="e", model=Row, prepare=key, call=ask, callee=F, retrying=waits)  # refused: the error
S: FK[Row, str, Answer] = Kind(name="f", model=Row, prepare=key, call=ask, callee=F)  # refused
T: FK[Tenant, str, Info] = Kind(name="g", model=Tenant, prepare=tkey, call=task, callee=F)  # refused
H: FK[Row, str, Info] = register(Kind(name="h", model=Row, prepare=key, call=ask, callee=F))
I: FK[Row, str, Info] = register(Kind(name="i", model=Row, prepare=key, call=ask_int, callee=F))  # refused
"""


def _refused_lines(snippet: Path, cached: bool = True) -> tuple[set[int], str]:
    """The lines mypy refuses, and what it said. In its own process: the checker's Django plugin
    sets Django up with the product's settings, as ./dev lint does (not the tests', whose
    installed apps would make it check all anew). ``cached``: with the project's .mypy_cache,
    which ./dev lint keeps warm (seconds); otherwise from nothing (a minute or more)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "FEISHU_SANDBOX")}
    cache = [] if cached else ["--no-incremental", "--cache-dir", os.devnull]
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *cache, str(snippet)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    errors = re.findall(rf"^{re.escape(str(snippet))}:(\d+): error", run.stdout, re.M)
    told = run.stdout + run.stderr
    assert run.returncode in (0, 1) and "INTERNAL ERROR" not in told, told
    return {int(line) for line in errors}, told


@pytest.mark.processes  # mypy, in a child Python
@pytest.mark.timeout(600)
def test_mypy_refuses_a_kind_whose_callbacks_disagree_and_takes_one_whose_agree(tmp_path):
    snippet = tmp_path / "kinds.py"
    snippet.write_text(KINDS)
    marked = {n for n, line in enumerate(KINDS.splitlines(), start=1) if "# refused" in line}
    assert len(marked) == 7
    refused, told = _refused_lines(snippet)
    if refused != marked:
        # Once, in a suite whose other processes ran mypy over the same cache at the same time,
        # the cached run found nothing to refuse: a run without the cache decides.
        refused, told = _refused_lines(snippet, cached=False)
    assert refused == marked, told


# A kind registered where it is assigned, its type declared: ``NAME: Type = outbound.register(``.
REGISTERED = re.compile(r"\boutbound\.register\(")
DECLARED = re.compile(r"^[A-Z_]+: [^=]+ = outbound\.register\($")


def test_every_kind_says_its_types_where_it_is_registered():
    undeclared = []
    for package in ("config", "hireops", "bindings", "referrals", "orders"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if REGISTERED.search(line) and not DECLARED.match(line):
                    undeclared.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not undeclared, "a kind registered without its type:\n" + "\n".join(undeclared)
