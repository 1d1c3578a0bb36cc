"""Vendor operations over many bindings: inline for a few, a background job for more (hireops.jobs).
Each item goes through its service, which records the change in the change history."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hireops.jobs.operations import Operation, register

from .matching import DecidedByStaff, binding_bind_manually, binding_reject, binding_rematch
from .models import EcoAccountBinding, VendorCustomer, status_label


def _bind(binding, params, user):
    customer = VendorCustomer.objects.filter(pk=params["customer"]).first()
    if customer is None:
        raise ValidationError(_("The customer no longer exists."))
    reason = params.get("reason", "")
    binding_bind_manually(binding, customer, user, reason)
    return _("Bound to %(customer)s.") % {"customer": customer}


def _reject(binding, params, user):
    binding_reject(binding, user, params["reason"])
    return _("Rejected.")


def _rematch(binding, params, user):
    changed = binding_rematch(binding, user)
    binding.refresh_from_db()
    status = status_label(binding.status)
    if not changed:
        return _("Unchanged: %(status)s.") % {"status": status}
    return _("Now %(status)s.") % {"status": status}


bind = register(
    Operation(
        "bindings.bind",
        gettext_lazy("Bind to a customer"),
        _bind,
        model=EcoAccountBinding,
    )
)
reject = register(
    Operation(
        "bindings.reject",
        gettext_lazy("Reject bindings"),
        _reject,
        model=EcoAccountBinding,
        refusals=(ValueError,),
    )
)
rematch = register(
    Operation(
        "bindings.rematch",
        gettext_lazy("Re-run matching"),
        _rematch,
        model=EcoAccountBinding,
        refusals=(DecidedByStaff,),
    )
)
