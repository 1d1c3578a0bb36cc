"""What keeps vendor customers from being deleted, asked by the admin's delete confirmation
(the page and the bulk action) before anything goes.

The apps that name customers tell it at start-up: bindings may not import them (the layers put
orders above bindings), and a rule asked through this list is named where it is kept. Orders'
catalogue is one: an entry narrowed to some customers is offered to every customer once none of
them is left, so a customer that is the last an entry names may not go until the entry names
another customer or is deleted (``orders.catalogue.customers``). A customer with bindings is
kept by the bindings themselves (``on_delete=PROTECT``).
"""

from collections.abc import Callable, Collection
from typing import Any

from django.utils.module_loading import import_string

# Given the ids of the customers to delete and who asks, why they may not go: one line per row
# that keeps them, as a delete confirmation lists it, naming only what that user may view
# (empty: nothing of this rule keeps them).
Keeping = Callable[[Collection[int], Any], list[str]]

# By dotted path, imported when a deletion asks: the ingest server runs every app's ready()
# too, and must not load the apps' code.
_rules: list[str] = []


def keep_customers_when(rule: str) -> None:
    """``rule``: the dotted path of a ``Keeping``."""
    if rule not in _rules:
        _rules.append(rule)


def why_kept(customer_ids: Collection[int], user: Any) -> list[str]:
    rules: list[Keeping] = [import_string(path) for path in _rules]
    return [line for rule in rules for line in rule(customer_ids, user)]


def rules() -> tuple[str, ...]:
    """The rules in place (the system check asks that the catalogue's is one of them)."""
    return tuple(_rules)
