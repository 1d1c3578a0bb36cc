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

from django.db import transaction
from django.utils.module_loading import import_string

from .models import VendorCustomer

# Given the ids of the customers to delete and who asks, why they may not go: one line per row
# that keeps them, as a delete confirmation lists it, naming only what that user may view
# (empty: nothing of this rule keeps them). Inside a transaction it locks the rows it read.
Keeping = Callable[[Collection[int], Any], list[str]]

# By dotted path, imported when a deletion asks: the ingest server runs every app's ready()
# too, and must not load the apps' code.
_rules: list[str] = []


def keep_customers_when(rule: str) -> None:
    """``rule``: the dotted path of a ``Keeping``."""
    if rule not in _rules:
        _rules.append(rule)


def why_kept(customer_ids: Collection[int], user: Any) -> list[str]:
    """Asked inside the deletion's transaction (the admin's delete page and bulk action run in
    one), the answer holds until it commits: each rule locks the rows it read (an entry a
    colleague is editing is waited for), then the customers are locked (a colleague's edit
    that names one of them checks it when it commits, on PostgreSQL's deferred foreign keys:
    before this lock, the rules asked again below see it; after, it waits for the deletion
    and fails whole), and the rules are asked again, reading what was committed meanwhile."""
    rules: list[Keeping] = [import_string(path) for path in _rules]
    lines = [line for rule in rules for line in rule(customer_ids, user)]
    if not transaction.get_connection().in_atomic_block:
        return lines
    list(VendorCustomer.objects.select_for_update().filter(pk__in=customer_ids).values_list("pk", flat=True))
    return [line for rule in rules for line in rule(customer_ids, user)]


def rules() -> tuple[str, ...]:
    """The rules in place (the system check asks that the catalogue's is one of them)."""
    return tuple(_rules)
