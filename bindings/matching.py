"""Eco-account bindings: created from Feishu's event, matched to a vendor customer.

Rules that keep staff's work safe:
- one binding per (app, tenant, account): redelivery or a second event updates in place;
- a manual decision (bind or reject by a person) is never undone by an event or by
  re-running matching;
- every status change is written to ``BindingStatusChange`` with who, when and why, and what
  a person did to the change history too.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core import audit
from hireops.core.messages import Message

from . import announce
from .models import (
    BindingStatus,
    BindingStatusChange,
    CustomerIdentifier,
    EcoAccountBinding,
    MatchingRule,
    VendorCustomer,
)
from .signals import binding_changed

# Change-history messages (hireops.core.audit), on the binding, translated when read.
BOUND = gettext_noop("Bound to customer %(customer)s.")
BOUND_BECAUSE = gettext_noop("Bound to customer %(customer)s: %(reason)s")
REJECTED = gettext_noop("Rejected: %(reason)s")
REMATCHED_BOUND = gettext_noop("Matching re-run: bound to customer %(customer)s.")
REMATCHED_REVIEW = gettext_noop("Matching re-run: needs review.")


@dataclass(frozen=True)
class MatchResult:
    status: str
    customer: VendorCustomer | None
    reason: str


def binding_match(binding: EcoAccountBinding) -> MatchResult:
    """Which customer do this account's field values identify? (reads only)

    Each key of the scope's rule identifies a customer on its own (identifiers are
    unique per key and value). The values present are looked up; exactly one customer
    behind them binds, none or several (values pointing at different customers) go to review.
    """
    rule = MatchingRule.objects.filter(scope=binding.scope).first()
    if rule is None or not rule.keys:
        return MatchResult(
            BindingStatus.NEEDS_REVIEW,
            None,
            Message(gettext_noop("No matching rule for this scope: choose the customer by hand.")),
        )
    values = binding.values
    present = {k: values[k] for k in rule.keys if values.get(k)}
    if not present:
        return MatchResult(
            BindingStatus.NEEDS_REVIEW,
            None,
            Message(gettext_noop("The account has no value for %(keys)s."), keys=", ".join(rule.keys)),
        )
    query = Q()
    for key, value in present.items():
        query |= Q(key=key, value=value)
    customer_ids = sorted(set(CustomerIdentifier.objects.filter(query).values_list("customer", flat=True)))
    shown = ", ".join(f"{k}={v}" for k, v in sorted(present.items()))
    if not customer_ids:
        return MatchResult(
            BindingStatus.NEEDS_REVIEW,
            None,
            Message(gettext_noop("No customer has %(values)s."), values=shown),
        )
    if len(customer_ids) > 1:
        names = ", ".join(VendorCustomer.objects.filter(pk__in=customer_ids).values_list("name", flat=True))
        return MatchResult(
            BindingStatus.NEEDS_REVIEW,
            None,
            Message(
                gettext_noop("%(n)d customers match %(values)s: %(names)s."),
                n=len(customer_ids),
                values=shown,
                names=names,
            ),
        )
    customer = VendorCustomer.objects.get(pk=customer_ids[0])
    return MatchResult(
        BindingStatus.BOUND,
        customer,
        Message(gettext_noop("Matched automatically on %(values)s."), values=shown),
    )


def _set_status(binding, status, customer, reason, actor=None, manual=False) -> bool:
    was = binding.status
    changed = (binding.status, binding.customer_id) != (status, customer.pk if customer else None)
    if changed or binding.review_reason != reason:
        if changed:
            BindingStatusChange.objects.create(
                binding=binding,
                from_status=binding.status or "",
                to_status=status,
                customer=customer,
                actor=actor,
                reason=reason,
            )
        binding.status, binding.customer, binding.review_reason = status, customer, reason
        binding.decided_manually = binding.decided_manually or manual
        binding.save()
        if changed:
            binding_changed.send(sender=EcoAccountBinding, binding=binding)
            if was:  # the first decision is part of binding.created
                announce.binding_changed(binding)
    return changed


def _apply_match(binding: EcoAccountBinding) -> bool:
    if binding.decided_manually:
        return False
    result = binding_match(binding)
    return _set_status(binding, result.status, result.customer, result.reason)


def binding_upsert_from_event(*, app_id, tenant_key, event_id, event: dict) -> EcoAccountBinding:
    """Handle ``hire.eco_account.created_v1``: create or update, then match."""
    account_id = event.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise ValueError(Message(gettext_noop("The eco_account event has no account_id.")))
    scope = event.get("scope")
    if scope not in (1, 2):
        raise ValueError(
            Message(gettext_noop("The eco_account event has an unknown scope: %(scope)s."), scope=repr(scope))
        )
    values = [i for i in event.get("custom_field_list") or [] if isinstance(i, dict)]
    with transaction.atomic():
        binding, created = EcoAccountBinding.objects.select_for_update().get_or_create(
            app_id=app_id,
            tenant_key=tenant_key,
            account_id=account_id,
            defaults={"scope": scope, "status": ""},
        )
        binding.scope = scope
        binding.account_name = str(event.get("account_name") or "")[:200]
        binding.usage_list = [u for u in event.get("usage_list") or [] if isinstance(u, int)]
        binding.usage_text = "," + "".join(f"{u}," for u in binding.usage_list)
        binding.custom_field_values = values
        binding.field_values_text = "\n".join(f"{i.get('key')}={i.get('value')}" for i in values)
        binding.source_event_id = event_id
        binding.save()
        _apply_match(binding)
        if created:
            announce.binding_created(binding)
    return binding


def binding_bind_manually(binding: EcoAccountBinding, customer: VendorCustomer, user, reason: str = ""):
    with transaction.atomic():
        binding = EcoAccountBinding.objects.select_for_update().get(pk=binding.pk)
        _set_status(
            binding,
            BindingStatus.BOUND,
            customer,
            reason or Message(gettext_noop("Bound by hand to %(name)s."), name=customer.name),
            actor=user,
            manual=True,
        )
        said = {"customer": customer.name, "reason": reason}
        audit.record(user, [binding], BOUND_BECAUSE if reason else BOUND, said)
    return binding


def binding_reject(binding: EcoAccountBinding, user, reason: str):
    if not reason.strip():
        raise ValueError(_("Say why the binding is rejected."))
    with transaction.atomic():
        binding = EcoAccountBinding.objects.select_for_update().get(pk=binding.pk)
        _set_status(binding, BindingStatus.REJECTED, None, reason.strip(), actor=user, manual=True)
        audit.record(user, [binding], REJECTED, {"reason": reason.strip()})
    return binding


class DecidedByStaff(Exception):
    """Re-matching leaves a binding staff bound or rejected by hand as it is."""


def binding_rematch(binding: EcoAccountBinding, user=None) -> bool:
    """Run matching again on one binding, as ``user``. Returns whether its status or customer
    changed (and only then is it in the change history)."""
    with transaction.atomic():
        binding = EcoAccountBinding.objects.select_for_update().get(pk=binding.pk)
        if binding.decided_manually:
            raise DecidedByStaff(_("Decided by staff: left as it is."))
        changed = _apply_match(binding)
        if changed and binding.status == BindingStatus.BOUND:
            audit.record(user, [binding], REMATCHED_BOUND, {"customer": binding.customer.name})  # type: ignore[union-attr]  # bound: it has one
        elif changed:
            audit.record(user, [binding], REMATCHED_REVIEW)
    return changed
