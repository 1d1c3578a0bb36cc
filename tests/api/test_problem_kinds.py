"""Every problem ``type`` the API can answer is declared once (hireops.api.problems.KINDS), in
the document (``x-problem-types``) and in docs/api.md's table, with the statuses it comes with.

The kinds raised are found by reading the code, not by running it: every ``Problem(...)`` and
``problem(...)`` call names its kind as a literal, or forwards a parameter of its function, whose
callers in the same module pass literals. A kind written any other way fails here, so the
enumeration stays complete."""

import ast
import re
from pathlib import Path

import pytest

from hireops.api.problems import KINDS, TYPE_PREFIX
from tests.api.document import served_document

ROOT = Path(__file__).resolve().parents[2]
NOT_THE_PRODUCT = {".venv", "tests", "bench", "sandbox", "var", "node_modules", ".git", "docs", "locale"}
# Where a kind is passed on from an object that already holds a checked one.
FORWARDED_BY_DESIGN = {"hireops/api/problems.py"}


def product_modules() -> list[Path]:
    """Every module outside ``NOT_THE_PRODUCT``, whose folders are never walked (``.venv`` alone
    holds thousands of files, read in every test process as this module is collected)."""
    tops = [top for top in ROOT.iterdir() if top.name not in NOT_THE_PRODUCT]
    return sorted(
        path
        for top in tops
        for path in ([top] if top.is_file() else top.rglob("*.py"))
        if path.suffix == ".py"
    )


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _argument(call: ast.Call, function: ast.FunctionDef, parameter: str) -> ast.expr | None:
    """What ``call`` (a call of ``function``) passes for ``parameter``."""
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
    names = [a.arg for a in function.args.args]
    index = names.index(parameter)
    return call.args[index] if index < len(call.args) else None


def raised_kinds() -> list[tuple[str, int | None, str]]:
    """(kind, status if written as a number, where) for every kind the code can answer."""
    found = []
    for path in product_modules():
        where = str(path.relative_to(ROOT))
        source = path.read_text()
        if "roblem" not in source:
            continue  # no name Problem or problem, so no call of one: not worth parsing
        tree = ast.parse(source, where)
        functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _name(call.func) in ("Problem", "problem")):
                continue
            kind = next((k.value for k in call.keywords if k.arg == "kind"), None)
            status = call.args[0] if call.args else None
            line = f"{where}:{call.lineno}"
            if kind is None:
                continue  # about:blank
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                found.append((kind.value, _number(status), line))
                continue
            if where in FORWARDED_BY_DESIGN:
                continue
            # A parameter of the enclosing function: its callers in this module pass the kind.
            function = parents.get(call)
            while function is not None and not isinstance(function, ast.FunctionDef):
                function = parents.get(function)
            assert isinstance(kind, ast.Name) and function is not None, (
                f"{line}: write the problem's kind as a literal (or a parameter of its function)"
            )
            assert kind.id in [a.arg for a in function.args.args], f"{line}: {kind.id} is no parameter"
            callers = [
                c
                for c in ast.walk(tree)
                if isinstance(c, ast.Call) and _name(c.func) == function.name and functions.get(function.name)
            ]
            assert callers, f"{line}: nothing calls {function.name}"
            for caller in callers:
                passed = _argument(caller, function, kind.id)
                assert isinstance(passed, ast.Constant) and isinstance(passed.value, str), (
                    f"{where}:{caller.lineno}: pass {function.name} its kind as a literal"
                )
                passed_status = status
                if isinstance(status, ast.Name) and status.id in [a.arg for a in function.args.args]:
                    passed_status = _argument(caller, function, status.id)
                found.append((passed.value, _number(passed_status), f"{where}:{caller.lineno}"))
    return found


def _number(node: ast.expr | None) -> int | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, int) else None


RAISED = raised_kinds()


def test_the_enumeration_finds_the_kinds_raised_across_the_apps():
    names = {kind for kind, _status, _where in RAISED}
    # One of each layer, so a reader that found nothing cannot pass.
    assert {"unauthorized", "rate-limited", "invalid-cursor", "external-id-taken", "order-closed"} <= names


@pytest.mark.parametrize(("kind", "status", "where"), RAISED, ids=[f"{k} {w}" for k, _s, w in RAISED])
def test_every_kind_raised_is_declared_with_its_status(kind, status, where):
    assert kind in KINDS, f"{where}: declare {kind!r} in hireops/api/problems.py"
    if status is not None:
        assert status in KINDS[kind].statuses, (
            f"{where}: {kind} with {status}, declared {KINDS[kind].statuses}"
        )


def test_every_declared_kind_is_raised_somewhere():
    """A kind nothing answers is one the document promises for nothing."""
    assert set(KINDS) == {kind for kind, _status, _where in RAISED}


def test_the_document_lists_every_kind():
    doc = served_document()
    listed = {entry["type"]: (entry["statuses"], entry["meaning"]) for entry in doc["x-problem-types"]}
    assert listed == {kind.type: (list(kind.statuses), kind.meaning) for kind in KINDS.values()}
    description = doc["components"]["schemas"]["ProblemOut"]["description"]
    for kind in KINDS.values():
        assert f"| `{kind.name}` | {', '.join(map(str, kind.statuses))} |" in description


def docs_table() -> dict[str, tuple[int, ...]]:
    """docs/api.md's table of problem types: kind -> statuses."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z-]+`", cells[0]):
            rows[cells[0].strip("`")] = tuple(int(s) for s in re.findall(r"\d{3}", cells[1]))
    return rows


def test_the_partners_guide_lists_every_kind_with_its_statuses():
    table = docs_table()
    assert table, "docs/api.md: the table of problem types under ## Errors"
    lacking, unknown = sorted(set(KINDS) - set(table)), sorted(set(table) - set(KINDS))
    assert not lacking and not unknown, f"docs/api.md lacks {lacking}, lists unknown {unknown}"
    for name, statuses in table.items():
        assert statuses == KINDS[name].statuses, name
    assert TYPE_PREFIX in (ROOT / "docs" / "api.md").read_text()


def test_an_undeclared_kind_or_status_never_answers():
    from hireops.api.problems import Problem, problem

    with pytest.raises(ValueError, match="not declared"):
        Problem(400, "x", kind="no-such-kind")
    with pytest.raises(ValueError, match="not declared"):
        problem(500, "x", kind="not-found")
    assert problem(418, "teapot")["Content-Type"] == "application/problem+json"  # about:blank: any status
