"""No import cycle anywhere in the project, counting the imports a module makes at run time too.

import-linter (./dev lint) sees ``import`` statements only. A module also imports others by
name: ``import_module("hireops.api.served")``, ``autodiscover_modules("api")`` (every installed
app's ``api.py``), ``include("hireops.signin.urls")``. The graph here is grimp's (import-linter's
own: every ``import``, in a function or not) with an edge for each of those calls whose module is
written in the code; a cycle through any of them fails, with the modules it goes through.

A registry below the apps is filled by their modules, which import it: it asks for them with
``hireops.core.discovery.require(...)`` and its app's ``AppConfig.ready()`` provides them, so the
edge runs from the AppConfig's module, which nothing imports. A module named by a value computed
at run time (a task's registered name, a setting) cannot be drawn: each place that does so is
listed in ``COMPUTED`` with its reason, and a new one fails until it is listed or written out.
"""

import ast
import importlib.util
from functools import cache
from pathlib import Path

import grimp
from django.apps import apps
from django.utils.module_loading import module_has_submodule

PACKAGES = ("config", "hireops", "bindings", "referrals", "orders", "sandbox", "demo")  # pyproject's roots
BY_NAME = {"import_module", "import_string", "include"}  # one module, named by the first argument
DISCOVERING = "autodiscover_modules"  # <app>.<name> for every installed app that has one
# Modules that import a module whose name they compute, and why that draws no edge of the project.
COMPUTED = {
    "hireops.core.task_names": "a task by its registered name: the tasks module of the app it names",
    "hireops.core.checks": "a system check importing every app's tasks module (nothing imports a check)",
    "hireops.core.web.app_urls": "each app's urls.py, for the root URLconf (config/urls.py) alone",
    "hireops.events.registry": "a handler by the dotted path its app registered it under",
    "hireops.signin.sessions": "Django's session engine (SESSION_ENGINE), a library's module",
    "referrals.withdrawals.guards": "a guard by the dotted path ReferralsConfig.ready() registered it under",
    "bindings.deletion": "a rule keeping customers, by the path OrdersConfig.ready() registered it under",
}


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _literal(node: ast.Call) -> list[str] | None:
    """The call's string arguments, when every positional one is written out; else None."""
    args = node.args
    if args and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
        return [a.value for a in args]
    return None


def _run_time_imports(module: str, known: set[str]) -> tuple[set[str], bool]:
    """The project's modules ``module`` imports by name, and whether it computes a name."""
    source = importlib.util.find_spec(module).origin
    tree = ast.parse(Path(source).read_text(encoding="utf-8"), source)
    imported: set[str] = set()
    computed = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (name := _called(node)) not in BY_NAME | {DISCOVERING}:
            continue
        named = _literal(node)
        if named is None:
            computed = True
        elif name == DISCOVERING:
            imported |= {
                f"{config.name}.{submodule}"
                for config in apps.get_app_configs()
                for submodule in named
                if module_has_submodule(config.module, submodule)
            }
        else:
            target = named[0]
            imported.add(target if target in known or name != "import_string" else target.rsplit(".", 1)[0])
    return imported & known, computed


def build() -> tuple[grimp.ImportGraph, frozenset[tuple[str, str]], frozenset[str]]:
    """grimp's graph of the project with the run-time imports added; those edges; and the
    modules that compute a module's name."""
    built = grimp.build_graph(*PACKAGES, cache_dir=None)
    known = set(built.modules)
    added, computing = set(), set()
    for module in sorted(known):
        imported, computed = _run_time_imports(module, known)
        if computed:
            computing.add(module)
        for target in imported - {module}:
            built.add_import(importer=module, imported=target)
            added.add((module, target))
    return built, frozenset(added), frozenset(computing)


graph = cache(build)  # read, never changed, by the tests below but one


def cycles(built: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One cycle through each import that is part of one (the shortest way back), each once."""
    found: dict[frozenset[str], tuple[str, ...]] = {}
    for importer in sorted(built.modules):
        for imported in sorted(built.find_modules_directly_imported_by(importer)):
            back = built.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                found.setdefault(frozenset(back), (importer, *back))
    return sorted(found.values())


def test_the_project_has_no_import_cycle_counting_the_imports_made_by_name():
    built, _added, _computing = graph()
    found = cycles(built)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_imports_made_by_name_are_in_the_graph():
    """The scan finds them (a scan finding nothing would make the test above pass)."""
    _built, added, _computing = graph()
    assert {
        ("hireops.api.apps", "hireops.api.served"),  # import_module
        ("hireops.api.served", "orders.api"),  # autodiscover_modules("api")
        ("hireops.api.served", "hireops.webhooks.api"),
        ("hireops.webhooks.apps", "referrals.webhook_events"),
        ("hireops.core.apps", "orders.tasks"),
        ("config.urls", "hireops.signin.urls"),  # include
    } <= added


def test_each_module_that_computes_a_module_name_says_why():
    _built, _added, computing = graph()
    assert computing == set(COMPUTED), "write the module out, or add it to COMPUTED with its reason"


def test_a_registry_importing_the_modules_that_fill_it_is_a_cycle():
    """As the webhooks' event types were found: hireops.webhooks.events discovering every
    app's webhook_events.py, which imports it to declare its types."""
    built, _added, _computing = build()
    built.add_import(importer="hireops.webhooks.events", imported="referrals.webhook_events")
    assert ("hireops.webhooks.events", "referrals.webhook_events", "hireops.webhooks.events") in cycles(built)
