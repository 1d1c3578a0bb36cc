"""Every write of a leaver marks the hour it arrived in for HR's leavers trend
(``referrals.leavers.trend``): what became of a leaver changes long after its month, and a write
that forgot the mark would leave the month's chart wrong until a backfill.

So the leavers are written in one place: ``trend.save_marked`` and ``trend.update_marked``
(which mark), and the creation in ``services.leaver_event`` (which marks beside it). This test
reads the product's code (as ``tests/test_audit_sites.py`` does for the change history) for any
other write: a save, an update, a creation or a deletion on ``Leaver`` or on anything named
after a leaver, any write at all in the leavers' package, and SQL naming the leavers' table."""

import ast
from functools import cache

from tests.test_audit_sites import modules

WRITES = {
    "save",
    "update",
    "delete",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
}
PACKAGE = "referrals.leavers"
# (module, function) → why it may write.
ALLOWED = {
    ("referrals.leavers.trend", "save_marked"): "saves one leaver and marks its hour",
    ("referrals.leavers.trend", "update_marked"): "updates the leavers it locked and marks their hours",
    ("referrals.leavers.services", "leaver_event"): "creates the leaver, then marks its hour (mark_arrived)",
    ("referrals.leavers.services", "_match"): "writes the account's employee id, not a leaver",
}
MARKERS = {"mark_arrived", "save_marked", "update_marked"}


def _root(node) -> str:
    """The name a chain of attributes and calls starts from (``Leaver`` in
    ``Leaver.objects.filter(...).update``)."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def writes(module: str, tree: ast.AST, where: tuple[str, ...] = ()):
    """(function, line, what) of each write of a leaver under ``tree``."""
    for child in ast.iter_child_nodes(tree):
        if (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and child.func.attr in WRITES
        ):
            root = _root(child.func.value)
            if module.startswith(PACKAGE) or root == "Leaver" or "leaver" in root.lower():
                yield ".".join(where), child.lineno, f"{root}….{child.func.attr}()"
        if (
            isinstance(child, ast.Constant)
            and isinstance(child.value, str)
            and "referrals_leaver" in child.value
        ):
            yield ".".join(where), child.lineno, "SQL on referrals_leaver"
        named = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        yield from writes(module, child, (*where, child.name) if named else where)


@cache
def trees() -> dict[str, ast.Module]:
    """Read when a test asks, once a process."""
    return {module: tree for module, _is_package, tree in modules()}


def all_writes() -> list[tuple[str, str, int, str]]:
    return [(module, *site) for module, tree in trees().items() for site in writes(module, tree)]


def test_every_write_of_a_leaver_marks_its_hour():
    stray = [site for site in all_writes() if site[:2] not in ALLOWED]
    assert not stray, (
        "A leaver written outside referrals.leavers.trend's save_marked/update_marked: use them, so "
        "the leavers' trend hears of the change (or add the site to ALLOWED, saying why it is no "
        "change of a leaver):\n" + "\n".join(f"{m}:{line} ({f}): {what}" for m, f, line, what in stray)
    )


def test_the_creation_marks_beside_it():
    for module, _is_package, tree in modules():
        if module != "referrals.leavers.services":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "leaver_event":
                called = {
                    n.func.id
                    for n in ast.walk(node)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                }
                assert called & MARKERS
                return
    raise AssertionError("services.leaver_event not found")


def test_the_scan_finds_the_writes_it_must():
    """Not an empty pass: the allowed writers are found, and a stray one would be."""
    found = {(module, function) for module, function, _line, _what in all_writes()}
    assert set(ALLOWED) <= found
    source = """
from referrals.models import Leaver


def hand(pk, leaver, some_leavers):
    Leaver.objects.filter(pk=pk).update(state="done")
    leaver.save()
    some_leavers.delete()
    Leaver.objects.get(pk=pk)  # a read: fine


class Admin:
    def act(self, cursor):
        cursor.execute("UPDATE referrals_leaver SET state = 'done'")
"""
    stray = list(writes("referrals.admin.thing", ast.parse(source)))
    assert [(f, line) for f, line, _what in stray] == [
        ("hand", 6),
        ("hand", 7),
        ("hand", 8),
        ("Admin.act", 14),
    ]
