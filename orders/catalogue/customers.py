"""The catalogue's say in deleting a vendor customer: an entry narrowed to customers
(``only_for``) that would be left naming none of them is offered to every customer, by the
next rollout to every account, so those customers are kept until the entry names another
customer or is deleted (``bindings.deletion``).

A customer that does go needs no rollout: it has no bindings (they keep it, ``PROTECT``), so no
account's catalogue changes when it leaves an entry that still names another customer."""

from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bindings.models import VendorCustomer

from .models import CATALOGUE_MODELS


def entries_left_to_everyone(customer_ids: Collection[int], user: Any) -> list[str]:
    """The entries, active or not (an inactive one is offered again when it is switched on),
    narrowed to none but these customers: one line each, saying what to do. An entry of a
    kind ``user`` may not view is counted, not named. In a transaction (a deletion's), the
    entries naming these customers are locked first (``bindings.deletion.why_kept``)."""
    ids = list(customer_ids)
    others = VendorCustomer.objects.exclude(pk__in=ids)
    locking = transaction.get_connection().in_atomic_block
    lines = []
    for model in (m for models in CATALOGUE_MODELS.values() for m in models):
        naming = model.objects.filter(only_for__in=ids)
        if locking:  # the deletion's transaction: an entry being edited is waited for
            list(naming.select_for_update(of=("self",)).values_list("pk", flat=True))
        alone = naming.exclude(only_for__in=others).distinct().order_by("pk")
        if not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
            if n := alone.count():
                lines.append(
                    ngettext(
                        "%(n)d catalogue entry you may not view is offered only to the customers "
                        "being deleted: ask a colleague who keeps the catalogue.",
                        "%(n)d catalogue entries you may not view are offered only to the customers "
                        "being deleted: ask a colleague who keeps the catalogue.",
                        n,
                    )
                    % {"n": n}
                )
            continue
        lines += [
            _(
                "%(kind)s %(entry)s is offered only to the customers being deleted: without them it "
                "would be offered to every customer. Name another customer in its “only for these "
                "customers”, or delete it, first."
            )
            % {"kind": capfirst(model._meta.verbose_name), "entry": entry}
            for entry in alone
        ]
    return lines
