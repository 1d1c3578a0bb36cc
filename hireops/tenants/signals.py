"""What apps may react to without the platform naming them."""

from django.dispatch import Signal

# A tenant enabled the app (app_open, or started it again after a stop), inside the
# transaction that records it: sender=Tenant, tenant_key=str. Receivers queue their work on
# commit (a vendor's fields are published to the new tenant, for one).
tenant_installed = Signal()
# A tenant stopped using the app (uninstalled it), in the transaction that records it:
# sender=Tenant, tenant_key=str.
tenant_uninstalled = Signal()
