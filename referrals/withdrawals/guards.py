"""Whose word a withdrawal needs first: the guards that may hold an account's cash against it.

A withdrawal empties the account's balance in Feishu. A sub-package above the withdrawals may have
promised that cash already (a payout run's unpaid line: one withdrawal would hold the line),
and the withdrawals may not import it (the sub-packages are layers: the payouts stand on the
withdrawals, never the reverse). So the app names each such guard here, from
``ReferralsConfig.ready()``, and ``withdrawal_request`` asks every one of them, by a plain
call, before anything is written::

    guards.register_cash_guard("referrals.payouts.services.cash_promised")

A guard is ``guard(account) -> str | None``: why the account's cash may not be withdrawn now,
as text for the person asking, or None.

This is a registry and not a signal because a money rule must fail loudly when it is missing.
A signal's sender cannot tell whether anyone listens: a receiver lost (a registration removed,
a weak reference collected, ``ready()`` not run in some process) would let every withdrawal
through in silence. Here the guards are named and counted:

- the system checks refuse to start when the payouts' guard is not registered or does not
  import (``referrals.checks``: ``referrals.E002``, ``referrals.E003``), so ``manage.py
  check`` and the deployment's ``migrate`` step stop before anything serves;
- a withdrawal asked while no guard is registered is refused with ``ImproperlyConfigured``
  (an error, never a withdrawal let through): every process that sets Django up runs
  ``ready()`` first, so an empty registry means the app is not set up, not that nothing
  holds cash.

The guard is registered from ``ready()`` rather than by the payouts' modules as they are
imported: what a process happened to import would then decide whether withdrawals are
guarded. It is a dotted path, imported when the first withdrawal asks: the ingest server runs
``ready()`` too and must not load the app's code (as event handlers are named,
``hireops.events.registry``).
"""

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from ..accounts.models import ReferralAccount

CashGuard = Callable[["ReferralAccount"], "str | None"]

_cash_guards: list[str] = []


def register_cash_guard(path: str) -> None:
    """Ask ``path`` (a dotted path to ``guard(account) -> str | None``) before every withdrawal.
    Registering it again is harmless (``ready()`` may run twice in tests)."""
    if path not in _cash_guards:
        _cash_guards.append(path)


def cash_guards() -> tuple[str, ...]:
    return tuple(_cash_guards)


@cache
def import_guard(path: str) -> CashGuard:
    return import_string(path)


def cash_refusal(account: "ReferralAccount") -> str | None:
    """Why the account's cash may not be withdrawn now (the first guard that says so), or
    None. Raises ``ImproperlyConfigured`` when no guard is registered: a withdrawal is never
    made unguarded."""
    if not _cash_guards:
        raise ImproperlyConfigured(
            "No cash guard is registered with the withdrawals (ReferralsConfig.ready() registers "
            "the payouts'): a withdrawal is refused rather than made unguarded."
        )
    for path in _cash_guards:
        refusal = import_guard(path)(account)
        if refusal:
            return refusal
    return None
