"""What the app's shared modules (the admin, the API, the demo) and the tests use of the
catalogue: changing its entries, each change rolled out to the bound accounts it concerns.

**A change of the catalogue is rolled out by whoever makes it, in its transaction.** The
entries (``CATALOGUE_MODELS``: packages, additional items, order-form fields, exam papers) and
the customers each is narrowed to (``only_for``) are written in these places only, and each
calls ``catalogue_changed`` before its transaction commits:

- the admin: ``CatalogueEntryAdmin.save_related`` (an entry added or changed, with its
  customers), ``delete_model`` and ``delete_queryset`` (the delete page and the bulk delete
  action), through ``entries_delete``;
- the partners' API: a catalogue replaced (``catalogue_replace`` below: every entry saved or
  withdrawn, then one rollout);
- the demo's seed (``demo.seeds.orders``);
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.admin.models import ADDITION, CHANGE
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_noop

from hireops.core import audit

from .models import CATALOGUE_MODELS, CatalogueRollout
from .rollouts import rollout_request
from .turnarounds import forget_turnarounds

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.forms import ModelForm

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


# --- a catalogue replaced whole (the partners' API) ---------------------------------------------

# An entry's fields as the partners' API names them (its change history names them so too).
FIELD_NAMES = {"code": "id"}
# Change history (hireops.core.audit), on each entry the replacement touched and on the rollout.
ADDED = gettext_noop("Added by a catalogue replacement through the API.")
CHANGED = gettext_noop("Changed by a catalogue replacement through the API: %(fields)s.")
WITHDRAWN = gettext_noop("Withdrawn by a catalogue replacement through the API.")
REPLACED = gettext_noop(
    "Catalogue replaced through the API: %(added)s added, %(changed)s changed, %(withdrawn)s withdrawn."
)


class ReplacedMeanwhile(Exception):
    """Another replacement added one of the same ids, or a colleague deleted a customer an
    entry names, while this one ran: nothing was changed."""


@dataclass
class Replacement:
    """The ids added (new, or brought back), changed and withdrawn, and the rollout that takes
    them to Feishu (None: the list was the catalogue already, and nothing was saved)."""

    added: list[str]
    changed: list[str]
    withdrawn: list[str]
    rollout: CatalogueRollout | None


# A replacement's forms: for each catalogue model, (the model, [(its admin form, bound and
# validated, the entry's ``entry_state`` before)]).
FormsOf: TypeAlias = list[tuple["ModelForm[Any]", dict[str, Any] | None]]
# (a catalogue model: each has ``code`` and ``is_active``)
Groups: TypeAlias = Iterable[tuple[type[Any], FormsOf]]
History: TypeAlias = list[tuple[Any, str, dict[str, str], int]]


def entry_state(entry: Model | None, fields: Iterable[str]) -> dict[str, Any] | None:
    """An entry's ``fields`` (and customers) before a replacement's form is bound to it (binding
    writes the request's values onto it), for ``catalogue_replace`` to tell what changed; None
    for an entry not yet in the catalogue."""
    if entry is None:
        return None
    state = {f: getattr(entry, f) for f in fields if f != "only_for"}
    state["only_for"] = {c.pk for c in entry.only_for.all()}  # type: ignore[attr-defined]  # every entry has customers
    return state


def _changes(forms: FormsOf) -> tuple[list["ModelForm[Any]"], list[tuple["ModelForm[Any]", list[str]]]]:
    """(added, changed): the forms whose entry is new or brought back, and those whose content
    changed (with the fields); an entry the same as before is left alone (nothing rolls out)."""
    added: list[ModelForm[Any]] = []
    changed: list[tuple[ModelForm[Any], list[str]]] = []
    for form, before in forms:
        if before is None or not before["is_active"]:
            added.append(form)
            continue
        data = {**form.cleaned_data, "only_for": {c.pk for c in form.cleaned_data["only_for"]}}
        fields = [name for name, value in before.items() if data[name] != value]
        if fields:
            changed.append((form, fields))
    return added, changed


def _save(groups: Groups) -> tuple[History, list[str], list[str], list[str]]:
    # (entry, message, its values, the change history's action flag)
    history: History = []
    added_ids: list[str] = []
    changed_ids: list[str] = []
    withdrawn_ids: list[str] = []
    for model, forms in groups:
        added, changed = _changes(forms)
        for form in added:
            entry = form.save()
            added_ids.append(entry.code)
            history.append((entry, ADDED, {}, ADDITION))
        for form, fields in changed:
            entry = form.save()
            changed_ids.append(entry.code)
            history.append(
                (entry, CHANGED, {"fields": ", ".join(FIELD_NAMES.get(f, f) for f in fields)}, CHANGE)
            )
        listed = [form.instance.code for form, _before in forms]
        for entry in model.objects.filter(is_active=True).exclude(code__in=listed):
            entry.is_active = False
            entry.save()
            withdrawn_ids.append(entry.code)
            history.append((entry, WITHDRAWN, {}, CHANGE))
    return history, added_ids, changed_ids, withdrawn_ids


def catalogue_replace(catalogue: str, groups: Groups, user: "User") -> Replacement:
    """Make ``catalogue`` the entries listed. ``groups``: for each model of the catalogue, (the
    model, [(its admin form bound to a listed entry and validated, ``entry_state`` of that entry
    before)]). An entry new, brought back or changed is saved through its form; one on offer but
    not listed is withdrawn (made inactive, as staff retire one: the orders placed with it keep
    its turnaround). In one transaction, the change is rolled out (``catalogue_changed``) and
    recorded on each entry and on the rollout, naming ``user``. A list equal to the catalogue
    saves nothing and queues nothing. ``ReplacedMeanwhile``: nothing was changed."""
    try:
        with transaction.atomic():
            history, added, changed, withdrawn = _save(groups)
            if not history:
                return Replacement([], [], [], None)
            # Rolled out with the saves, naming the user (or joining the rollout that waits).
            rollout = catalogue_changed(catalogue, user)
            for entry, message, params, flag in history:
                audit.record(user, [entry], message, params, flag=flag)
            counts = {"added": len(added), "changed": len(changed), "withdrawn": len(withdrawn)}
            audit.record(user, [rollout], REPLACED, counts)
            # The links to customers checked here rather than when the caller's transaction
            # commits (Django's foreign keys are deferred on PostgreSQL, and an API write runs
            # in its request's transaction): a customer deleted meanwhile is refused here too.
            if connection.vendor == "postgresql":
                connection.check_constraints()
    except IntegrityError:  # another replacement added the same id, or a customer went, meanwhile
        raise ReplacedMeanwhile from None
    return Replacement(added, changed, withdrawn, rollout)
