"""The change history is written by the service that makes a change (``hireops.core.audit``), so
every way of asking for it (an admin action, a bulk job, a command, an API key) leaves the same
history, and a new admin action or API operation can neither forget it nor word it its own way.

Every call of ``audit.record`` in the product's packages is found here by reading the code (the
import-linter's root packages, but the Feishu emulator), however ``record`` was imported, and
each must be in a services module: a room's or an app's ``services.py`` or a module of a package
that has one (the modules behind it), or one of ``SERVICE_MODULES``, never in what Django, Celery
or ninja calls (an admin, an API, a bulk operation, a form, a view, a task, a command). The few
that cannot be are in ``ALLOWED``, each with why.
"""

import ast
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDIT = "hireops.core.audit"
NOT_THE_PRODUCT = {"sandbox"}  # the Feishu emulator (only the tests and the demo start it)

# Modules that are services without the name: each changes what it says, for whoever calls it.
SERVICE_MODULES = {
    "hireops.api.keys": "API keys made and revoked (the admin, the commands)",
    "hireops.core.schedules.registry": "schedules switched on or off and run now",
    "hireops.signin.models": "invitations and enrolment links issued (their ``issue``)",
    "hireops.signin.second_factor": "a colleague's second factors reset",
    "hireops.webhooks.delivery": "deliveries sent again (the admin, the API)",
    "hireops.webhooks.endpoints": "endpoints handed over to another key",
    "hireops.webhooks.events": "pings sent (the admin, the API)",
    "bindings.customers": "vendor customers made and changed (the admin, the API)",
    "bindings.matching": "bindings bound, rejected and matched again",
    "bindings.publishing": "the custom fields published",
    "orders.catalogue.pushes": "catalogue pushes staff ask for",
    "orders.writes": "what is sent Feishu about an order (the admin, the API, the logins' import)",
}
# (module, function) → why the call is not in a service.
ALLOWED = {
    ("hireops.core.admin.libraries", "EmailAddressAdmin.make_verified"): (
        "allauth's own admin action verifies the addresses (no service of ours does): the admin "
        "that wraps it records what it verified"
    ),
    ("hireops.signin.changes", "_record"): (
        "allauth's own pages change a user's factors, password and email; its signals bring each "
        "change here, the one place that records them (no service of ours makes them)"
    ),
}
# What Django, Celery and ninja find by name, the other ways in: never a service. A module of
# these names, or any module inside an ``admin`` or ``management`` package.
INTERFACES = {"admin", "api", "bulk", "forms", "views", "urls", "tasks", "handlers", "apps"}
INTERFACE_PACKAGES = {"admin", "management"}


@dataclass(frozen=True)
class Site:
    module: str
    function: str  # "Class.method", or "" at module level
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} ({self.function or 'module level'})"


def product_packages() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        roots = tomllib.load(f)["tool"]["importlinter"]["root_packages"]
    return [root for root in roots if root not in NOT_THE_PRODUCT]


def modules():
    for package in product_packages():
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path.name == "__init__.py", ast.parse(path.read_text(encoding="utf-8"))


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _names_of_audit(module: str, is_package: bool, tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names this module gives ``hireops.core.audit`` and its ``record``, however imported."""
    modules_, records = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == AUDIT and alias.asname:
                    modules_.add(alias.asname)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node)
            for alias in node.names:
                if f"{source}.{alias.name}" == AUDIT:
                    modules_.add(alias.asname or alias.name)
                elif source == AUDIT and alias.name == "record":
                    records.add(alias.asname or alias.name)
    return modules_, records


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _calls(node, names: set[str], where: tuple[str, ...] = ()):
    """(the enclosing function, the line) of each call of one of ``names`` under ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Call) and _dotted(child.func) in names:
            yield ".".join(where), child.lineno
        named = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        yield from _calls(child, names, (*where, child.name) if named else where)


@cache
def record_sites() -> list[Site]:
    """Read when a test asks, once a process: not as the module is collected, in every process."""
    found = []
    for module, is_package, tree in modules():
        if module == AUDIT:
            continue
        aliases, records = _names_of_audit(module, is_package, tree)
        names = records | {f"{alias}.record" for alias in aliases} | {f"{AUDIT}.record"}
        found += [Site(module, function, line) for function, line in _calls(tree, names)]
    return found


def is_interface(module: str) -> bool:
    *packages, name = module.split(".")
    return name in INTERFACES or bool(INTERFACE_PACKAGES & set(packages[1:]))


def is_service(module: str) -> bool:
    if is_interface(module):
        return False
    package, name = module.rsplit(".", 1)
    has_services = (ROOT / package.replace(".", "/") / "services.py").exists()
    return name == "services" or has_services or module in SERVICE_MODULES


def test_every_change_history_entry_is_written_by_a_service():
    misplaced = [
        site
        for site in record_sites()
        if not is_service(site.module) and (site.module, site.function) not in ALLOWED
    ]
    assert not misplaced, (
        "audit.record called outside a service: move the record into the service that makes the "
        "change (it takes the acting user), or, for what no service of ours changes, add it to "
        "ALLOWED with why:\n" + "\n".join(map(str, misplaced))
    )


def test_the_scan_finds_the_records_it_must():
    """Not an empty pass: the services known to record are found, each way ``record`` is named."""
    seen = {(site.module, site.function) for site in record_sites()}
    for expected in [
        ("referrals.rewards.services", "reward_add"),  # from hireops.core import audit
        ("hireops.core.schedules.registry", "switch"),  # from .. import audit (inside a function)
        ("hireops.core.admin.libraries", "EmailAddressAdmin.make_verified"),  # from .. import audit
        ("orders.writes", "_recorded"),
        ("hireops.webhooks.delivery", "resend"),
    ]:
        assert expected in seen, expected
    assert len(record_sites()) >= 40


def test_the_scan_sees_every_way_of_importing_record():
    source = """
from hireops.core import audit as history
from hireops.core.audit import record as write
import hireops.core.audit


def one(user):
    history.record(user, [], "x")
    write(user, [], "x")
    hireops.core.audit.record(user, [], "x")
"""
    tree = ast.parse(source)
    aliases, records = _names_of_audit("orders.admin.thing", False, tree)
    assert aliases == {"history"} and records == {"write"}
    names = {"write", "history.record", f"{AUDIT}.record"}
    assert [line for _function, line in _calls(tree, names)] == [8, 9, 10]
    assert {function for function, _line in _calls(tree, names)} == {"one"}
    assert is_interface("orders.admin.thing") and not is_service("orders.admin.thing")
    assert is_interface("bindings.api") and is_interface("hireops.events.management.commands.x")
    assert is_service("referrals.rewards.input") and is_service("hireops.api.keys")
    assert not is_service("orders.api.results")  # a module of an app's API package


def test_every_exception_is_still_needed_and_every_service_module_is_one():
    calls = {(site.module, site.function) for site in record_sites()}
    assert not set(ALLOWED) - calls, "no longer called there: take it out of ALLOWED"
    for module, why in SERVICE_MODULES.items():
        assert not is_interface(module), module
        assert (ROOT / (module.replace(".", "/") + ".py")).exists(), module
        assert why
    recording = {site.module for site in record_sites()}
    unused = set(SERVICE_MODULES) - recording
    assert not unused, f"these record nothing: take them out of SERVICE_MODULES: {unused}"
