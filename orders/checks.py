"""The orders' settings, and the catalogue's rollout on every edit, checked at start."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def purge_after_events_are_pruned(app_configs, **kwargs):
    """An order event's payload holds the candidate's data too: it must be pruned before the
    order's data is purged, or the purge leaves a copy behind."""
    if settings.FEISHU_EVENT_RETENTION_DAYS < settings.ORDER_PURGE_AFTER_DAYS:
        return []
    return [
        Warning(
            "FEISHU_EVENT_RETENTION_DAYS is not below ORDER_PURGE_AFTER_DAYS: stored order events keep "
            "candidates' data after the orders' purge.",
            hint="Keep events for fewer days than ORDER_PURGE_AFTER_DAYS.",
            id="orders.W001",
        )
    ]


@register()
def catalogue_edits_roll_out(app_configs, **kwargs):
    """Staff edit the catalogue in the admin, and no signal follows the entries' saves: an edit
    reaches the bound accounts because the entry's admin, a ``CatalogueEntryAdmin``, rolls the
    catalogue out in the transaction that saves or deletes it (``orders.catalogue.services``).
    A catalogue model edited by any other admin would change what Feishu should have without
    telling it. (Imported here, not at start-up: the ingest server must not load the admin.)"""
    from django.contrib import admin

    from .admin.catalogue import CatalogueEntryAdmin
    from .catalogue.services import CATALOGUE_OF

    errors = []
    for model in CATALOGUE_OF:
        if not admin.site.is_registered(model):
            continue  # not edited in the admin: no edit to roll out
        model_admin = admin.site.get_model_admin(model)
        if not isinstance(model_admin, CatalogueEntryAdmin):
            errors.append(
                Error(
                    f"The admin of {model._meta.label}, {type(model_admin).__name__}, is not a "
                    "CatalogueEntryAdmin: its saves and deletes would not roll the catalogue out to the "
                    "bound accounts.",
                    hint="Register the model with a subclass of orders.admin.catalogue.CatalogueEntryAdmin.",
                    id="orders.E001",
                )
            )
    return errors


@register()
def customers_kept_for_their_entries(app_configs, **kwargs):
    """Deleting the last customer an entry is narrowed to would offer the entry to every
    customer: the delete confirmation of the customers' admin asks ``bindings.deletion``, where
    the catalogue's rule must be (orders registers it when it starts)."""
    from django.contrib import admin

    from bindings.admin.customers import VendorCustomerAdmin
    from bindings.deletion import rules
    from bindings.models import VendorCustomer

    from .catalogue.customers import entries_left_to_everyone

    path = f"{entries_left_to_everyone.__module__}.{entries_left_to_everyone.__qualname__}"
    asked = not admin.site.is_registered(VendorCustomer) or isinstance(
        admin.site.get_model_admin(VendorCustomer), VendorCustomerAdmin
    )
    if path in rules() and asked:
        return []
    return [
        Error(
            "Deleting a vendor customer does not ask the catalogue: an entry narrowed to that customer "
            "alone would be offered to every customer.",
            hint=f"Keep orders' keep_customers_when({path!r}) in OrdersConfig.ready, and "
            "VendorCustomer's admin a bindings.admin.customers.VendorCustomerAdmin.",
            id="orders.E002",
        )
    ]
