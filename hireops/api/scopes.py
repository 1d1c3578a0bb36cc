"""The scopes a key may hold, declared by the apps that own the operations behind them.

``declare("things:read", _("…"), permission="things.view_thing")`` from an app's
``api.py``: a person may give a key a scope only if they hold its permission themselves
(a key never does more than its maker could). ``…:personal_data`` scopes unmask personal data.
Every ``api.py`` is imported on the registry's first read (``hireops.core.discovery``: the
modules that declare scopes import this one, which may not import them back).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hireops.core import discovery

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Scope:
    name: str
    description: "StrOrPromise"  # gettext_lazy's: read in the language of whoever reads it
    permission: str | None = None


_scopes: dict[str, Scope] = {}


def declare(name: str, description: "StrOrPromise", *, permission: str | None = None) -> Scope:
    scope = Scope(name, description, permission)
    _scopes[name] = scope
    return scope


def all_scopes() -> dict[str, Scope]:
    discovery.require("api")  # every operation's module, each app's api.py (hireops.api.served)
    return dict(sorted(_scopes.items()))


def unknown(names: Iterable[str]) -> list[str]:
    known = all_scopes()
    return [n for n in names if n not in known]


def grantable_by(user: "User", names: Iterable[str]) -> list[str]:
    """The scopes in ``names`` that ``user`` may not give a key (they lack its permission)."""
    known = all_scopes()
    # The permission is tested for None on the left of ``and``, which a type checker does not
    # carry over to a second subscript.
    return [
        n
        for n in names
        if known[n].permission and not user.has_perm(known[n].permission)  # type: ignore[arg-type]
    ]
