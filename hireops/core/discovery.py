"""Registries that modules of the apps fill, those modules imported on the registry's first use.

A registry of the platform (the dashboard's parts, the status checks, the tenants page's columns,
the webhooks' event types, the bulk operations, the outbound kinds, the API's operations and
scopes) is filled by modules of the apps above it (``<app>/dashboard.py``, ``health.py``,
``tenant_columns.py``, ``webhook_events.py``, ``bulk.py``, ``tasks.py``, ``api.py``), which import
the registry to register. Were the registry to import those modules itself, each would close an
import cycle: the registry importing what imports it (tests/test_import_graph.py counts
``autodiscover_modules`` and ``import_module`` as imports). So the registry only asks for them
by a name, ``require("dashboard")``, before it is read, and the ``AppConfig.ready()`` of its app,
a module nothing imports, says how they are found: ``provide("dashboard", lambda:
autodiscover_modules("dashboard"))``, as Django's admin finds each ``admin.py`` from its own
AppConfig. They are imported on first use and not in ``ready()``: every process runs ``ready()``,
and the ingest server loads no app's modules (tests/test_house_rules.py).
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_finders: dict[str, Callable[[], object]] = {}
_found: set[str] = set()


def provide(name: str, find: Callable[[], object]) -> None:
    """How the modules ``require(name)`` asks for are imported (from an ``AppConfig.ready()``)."""
    _finders[name] = find


def require(name: str) -> None:
    """Import the modules ``name`` stands for, once per process (a registry asks before it is read)."""
    if name in _found:
        return
    try:
        find = _finders[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"Nothing provides the modules {name!r}: an AppConfig.ready() calls "
            f"hireops.core.discovery.provide({name!r}, …)"
        ) from None
    find()
    _found.add(name)
