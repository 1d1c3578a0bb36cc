"""What the app's shared modules (the admin, the API, the demo) and the tests use of the
catalogue: changing its entries, each change rolled out to the bound accounts it concerns.

**A change of the catalogue is rolled out by whoever makes it, in its transaction.** The
entries (``CATALOGUE_MODELS``: packages, additional items, order-form fields, exam papers) and
the customers each is narrowed to (``only_for``) are written in these places only, and each
calls ``catalogue_changed`` before its transaction commits:

- the admin: ``CatalogueEntryAdmin.save_related`` (an entry added or changed, with its
  customers), ``delete_model`` and ``delete_queryset`` (the delete page and the bulk delete
  action), through ``entries_delete``;
- the partners' API: a catalogue replaced (``catalogue.api``: every entry saved or withdrawn,
  then one rollout);
- the demo's seed (``orders.demo``);
- ``entry_save`` and ``entries_delete`` below, for any other code (a shell, a test).

No signal listens to the entries' saves: a bare ``save()``, ``delete()`` or ``update()`` of an
entry changes the row and queues nothing, and Feishu hears of it with the next change that is
rolled out. A rollout follows what the writer meant (one per change, naming who asked) rather
than whatever touched a row (fixtures, data migrations, a field kept in step), and a new
writer cannot forget it unnoticed: the system checks refuse to start when a catalogue model's
admin is not a ``CatalogueEntryAdmin`` (``orders.checks``, ``orders.E001``), and
``tests/orders/test_catalogue_writers.py`` drives every writer of every catalogue model.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Model, QuerySet

from .models import CATALOGUE_MODELS, CatalogueRollout
from .rollouts import rollout_request
from .turnarounds import forget_turnarounds

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from bindings.models import VendorCustomer

CATALOGUE_OF: dict[type[Model], str] = {
    model: catalogue for catalogue, models in CATALOGUE_MODELS.items() for model in models
}


def catalogue_of(entry: Model | type[Model]) -> str:
    """The catalogue an entry (or a model of entries) belongs to."""
    model = entry if isinstance(entry, type) else type(entry)
    return CATALOGUE_OF[model._meta.concrete_model]  # type: ignore[index]  # a catalogue model


def catalogue_changed(catalogue: str, user: "User | None" = None) -> CatalogueRollout:
    """The catalogue's entries changed: roll it out to every bound account whose Feishu then
    differs (the rollout waiting for this catalogue, if one does, takes the change too), and
    forget the cached turnarounds. Called inside the transaction that changed the entries: the
    rollout is committed with the change, or neither is."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("catalogue_changed() is called inside the transaction that changes the entries.")
    rollout = rollout_request(catalogue, user)
    if user is not None and rollout.requested_by_id is None:  # joined one a schedule or the demo queued
        CatalogueRollout.objects.filter(pk=rollout.pk, requested_by__isnull=True).update(requested_by=user)
        rollout.requested_by = user
    transaction.on_commit(forget_turnarounds)
    return rollout


def entry_save(
    entry: Model, *, only_for: "Iterable[VendorCustomer] | None" = None, user: "User | None" = None
) -> CatalogueRollout:
    """Save an entry (added or changed) and, when given, the customers it is narrowed to (an
    empty list: every customer), rolled out. The admin and the API save validated forms and
    call ``catalogue_changed`` themselves; this is the same for code that holds an entry."""
    with transaction.atomic():
        entry.save()
        if only_for is not None:
            entry.only_for.set(only_for)  # type: ignore[attr-defined]  # every entry has customers
        return catalogue_changed(catalogue_of(entry), user)


def entries_delete(entries: "QuerySet[Any]", user: "User | None" = None) -> int:
    """Delete entries of one model, rolled out (Feishu stops offering them; orders placed with
    them keep their ids). How many were deleted."""
    with transaction.atomic():
        _total, per_model = entries.delete()
        deleted = per_model.get(entries.model._meta.label, 0)
        if deleted:
            catalogue_changed(catalogue_of(entries.model), user)
    return deleted
