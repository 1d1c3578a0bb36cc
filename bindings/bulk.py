"""Vendor operations over many bindings: inline for a few, a background job for more (hireops.jobs)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from hireops.core import audit
from hireops.jobs.operations import Operation, register

from .matching import DecidedByStaff, binding_bind_manually, binding_reject, binding_rematch
from .models import BindingStatus, EcoAccountBinding, VendorCustomer, status_label

# Change-history messages (hireops.core.audit), translated when read.
BOUND = gettext_noop("Bound to customer %(customer)s.")
BOUND_BECAUSE = gettext_noop("Bound to customer %(customer)s: %(reason)s")
REJECTED = gettext_noop("Rejected: %(reason)s")
REMATCHED_BOUND = gettext_noop("Matching re-run: bound to customer %(customer)s.")
REMATCHED_REVIEW = gettext_noop("Matching re-run: needs review.")


def _bind(binding, params, user):
    customer = VendorCustomer.objects.filter(pk=params["customer"]).first()
    if customer is None:
        raise ValidationError(_("The customer no longer exists."))
    reason = params.get("reason", "")
    binding_bind_manually(binding, customer, user, reason)
    audit.record(
        user, [binding], BOUND_BECAUSE if reason else BOUND, {"customer": customer.name, "reason": reason}
    )
    return _("Bound to %(customer)s.") % {"customer": customer}


def _reject(binding, params, user):
    binding_reject(binding, user, params["reason"])
    audit.record(user, [binding], REJECTED, {"reason": params["reason"].strip()})
    return _("Rejected.")


def _rematch(binding, params, user):
    changed = binding_rematch(binding)
    binding.refresh_from_db()
    status = status_label(binding.status)
    if not changed:
        return _("Unchanged: %(status)s.") % {"status": status}
    if binding.status == BindingStatus.BOUND:
        audit.record(user, [binding], REMATCHED_BOUND, {"customer": binding.customer.name})
    else:
        audit.record(user, [binding], REMATCHED_REVIEW)
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
