"""Vendor customers and their identifiers, written by a program (the partner API).

The admin writes customers through its form and the identifiers' inline; this service applies
the same checks, so a row the API writes is one the admin could have written and the other way
round:

- each field as the model validates it (what Django's model form runs: ``full_clean``), text
  stripped of surrounding spaces as the admin's form fields strip it;
- an identifier's key is a custom-field key (``field_key_validator``: the matching compares it
  with the keys of the values Feishu sends), its value is not empty;
- one (key, value) across every customer (``identifier_unique``): a value identifies one
  customer, or matching could not decide. The refusal names the field at fault and the
  customer already holding the value.

Like the admin, a change of identifiers does not re-run matching by itself: bindings waiting
for review are matched again by staff's "Re-run matching" or by Feishu's next event for the
account (``matching``), and the new identifiers serve every account added from now on.
"""

from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.admin.models import ADDITION
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_noop

from hireops.core import audit

from .models import CustomerIdentifier, VendorCustomer

FIELDS = ("name", "contact", "notes")

# Change-history messages (hireops.core.audit), translated when read.
CREATED = gettext_noop("Created through the API, with the identifiers %(identifiers)s.")
CHANGED = gettext_noop("Changed through the API: %(fields)s.")
IDENTIFIERS_CHANGED = gettext_noop(
    "Identifiers changed through the API: added %(added)s; removed %(removed)s."
)


class CustomerRefused(Exception):
    """The write was refused; ``errors`` lists (field, message) in English (the API's words),
    fields named as the API names them (``name``, ``identifiers.0.value``).

    A write opens no savepoint of its own (two a write were a fifth of its statements): a
    refusal rolls back the caller's transaction, or its innermost savepoint, with it. The API
    runs each write in one (``hireops.api.idempotency.run_write``), and a refusal keeps nothing."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


@dataclass(frozen=True)
class Changes:
    """What a write asks: ``fields`` ({name: text}, only those to change) and ``identifiers``
    (the customer's whole set of (key, value), or None to leave them as they are)."""

    fields: dict
    identifiers: list[tuple[str, str]] | None = None


def _messages(error: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    return [(f"{prefix}{field}", " ".join(msgs)) for field, msgs in error.message_dict.items()]


def _validated(customer: VendorCustomer, changes: Changes) -> tuple[list[str], list[tuple[str, str]] | None]:
    """Apply ``changes`` to ``customer`` (unsaved) after checking them all; returns the fields
    that changed and the identifiers wanted (stripped). Raises CustomerRefused with every fault."""
    errors: list[tuple[str, str]] = []
    changed = []
    for name, value in changes.fields.items():
        value = (value or "").strip()
        if getattr(customer, name) != value:
            changed.append(name)
            setattr(customer, name, value)
    try:
        customer.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as exc:
        errors += _messages(exc)
    wanted = None
    if changes.identifiers is not None:
        wanted, seen = [], {}
        for i, (key, value) in enumerate(changes.identifiers):
            key, value = (key or "").strip(), (value or "").strip()
            try:
                CustomerIdentifier(key=key, value=value).full_clean(
                    exclude=["customer"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                errors += _messages(exc, f"identifiers.{i}.")
                continue
            if (key, value) in seen:
                errors.append((f"identifiers.{i}.value", f"{key}={value} is given twice."))
                continue
            seen[(key, value)] = i
            wanted.append((key, value))
        if seen:
            query = Q()
            for key, value in seen:
                query |= Q(key=key, value=value)
            taken = CustomerIdentifier.objects.filter(query).select_related("customer")
            for other in taken.exclude(customer_id=customer.pk) if customer.pk else taken:
                errors.append(
                    (
                        f"identifiers.{seen[(other.key, other.value)]}.value",
                        f"{other.key}={other.value} already identifies the customer "
                        f"{other.customer_id} ({other.customer.name}).",
                    )
                )
    if errors:
        raise CustomerRefused(sorted(errors, key=_natural))
    return changed, wanted


def _natural(error):
    return [int(p) if p.isdigit() else p for p in error[0].split(".")]


class Created(NamedTuple):
    customer: VendorCustomer
    identifiers: list[CustomerIdentifier]  # as written


def customer_create(changes: Changes, user) -> Created:
    """A new customer with its identifiers; ``user`` is who the change history names."""
    with transaction.atomic(savepoint=False), translation.override("en"):
        customer = VendorCustomer()
        asked = Changes({f: "" for f in FIELDS} | changes.fields, changes.identifiers)
        _changed, wanted = _validated(customer, asked)
        customer.save()
        written = _add_identifiers(customer, wanted or [])
        shown = ", ".join(f"{k} = {v}" for k, v in wanted or []) or "—"
        audit.record(user, [customer], CREATED, {"identifiers": shown}, flag=ADDITION)
    return Created(customer, written)


def customer_update(customer: VendorCustomer, changes: Changes, user) -> VendorCustomer:
    """Change the customer's ``changes.fields`` and, when given, replace its identifiers with
    ``changes.identifiers`` (identifiers kept as they are are not rewritten). A request that
    changes nothing writes nothing (``updated_at`` moves only on a change)."""
    with transaction.atomic(savepoint=False), translation.override("en"):
        customer = VendorCustomer.objects.select_for_update().get(pk=customer.pk)
        changed, wanted = _validated(customer, changes)
        added: list = []
        removed: list = []
        if wanted is not None:
            added, removed = _set_identifiers(customer, wanted)
        if changed or added or removed:
            customer.save()  # a full save: updated_at moves for the identifiers too
            if changed:
                audit.record(user, [customer], CHANGED, {"fields": ", ".join(changed)})
            if added or removed:
                audit.record(
                    user,
                    [customer],
                    IDENTIFIERS_CHANGED,
                    {
                        "added": ", ".join(f"{k} = {v}" for k, v in added) or "—",
                        "removed": ", ".join(f"{k} = {v}" for k, v in removed) or "—",
                    },
                )
    return customer


def _set_identifiers(customer, wanted) -> tuple[list, list]:
    current = {(i.key, i.value): i for i in customer.identifiers.all()}
    removed = [pair for pair in current if pair not in set(wanted)]
    added = [pair for pair in wanted if pair not in current]
    if removed:
        CustomerIdentifier.objects.filter(pk__in=[current[pair].pk for pair in removed]).delete()
    _add_identifiers(customer, added)
    return added, removed


def _add_identifiers(customer, pairs) -> list[CustomerIdentifier]:
    rows = [CustomerIdentifier(customer=customer, key=k, value=v) for k, v in pairs]
    if not rows:
        return rows
    try:
        return CustomerIdentifier.objects.bulk_create(rows)
    except IntegrityError:  # another writer took a value since the check: refused, not a 500
        # Raised at once, with no other query: the transaction is rolled back on the way out.
        raise CustomerRefused(
            [("identifiers", "An identifier was just given to another customer; send the request again.")]
        ) from None
