"""Orders from Feishu's events (docs/feishu.md §8.5, §9.4).

Each event upserts one row keyed by (app, tenant, Feishu's order id): a redelivery, or staff
reprocessing the event, changes nothing that was already recorded. The order is linked to
its eco account's binding (same app, tenant and account) and, once bound, to the binding's
customer; an order that arrives before its binding is bound is linked when it is.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from bindings.models import BindingStatus, EcoAccountBinding
from hireops.core.messages import Message
from hireops.core.models import CallStatus

from .models import BackgroundCheck, CheckState, Exam, OrderWrite
from .writes import CANCELED_NOT_SENT

NO_ID = gettext_noop("The event has no %(field)s: it cannot be matched to an order.")


class OrderEventInvalid(Exception):
    pass


def _required(event: dict, key: str) -> str:
    value = str(event.get(key) or "").strip()
    if not value:
        raise OrderEventInvalid(Message(NO_ID, field=key))
    return value


def _person(raw) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    mobile = raw.get("mobile") if isinstance(raw.get("mobile"), dict) else {}
    return {
        "name": str(raw.get("name") or "")[:200],
        "mobile_code": str(mobile.get("code") or "")[:6],
        "mobile": str(mobile.get("number") or "")[:32],
        "email": str(raw.get("email") or "")[:254],
    }


def _binding(app_id: str, tenant_key: str, account_id: str):
    return (
        EcoAccountBinding.objects.filter(app_id=app_id, tenant_key=tenant_key, account_id=account_id)
        .only("pk", "status", "customer_id")
        .first()
    )


def _links(app_id: str, tenant_key: str, account_id: str) -> dict:
    binding = _binding(app_id, tenant_key, account_id)
    if binding is None:
        return {"binding": None, "customer_id": None}
    bound = binding.status == BindingStatus.BOUND
    return {"binding": binding, "customer_id": binding.customer_id if bound else None}


def background_check_created(*, app_id: str, tenant_key: str, event_id: str, event: dict) -> BackgroundCheck:
    check_id = _required(event, "background_check_id")
    account_id = _required(event, "account_id")
    candidate, contact = _person(event.get("candidate_info")), _person(event.get("client_contact_info"))
    raw_candidate = event.get("candidate_info") if isinstance(event.get("candidate_info"), dict) else {}
    values = [
        {"key": str(i.get("key") or ""), "value": str(i.get("value") or "")}
        for i in event.get("custom_field_list") or []
        if isinstance(i, dict)
    ]
    check, _created = BackgroundCheck.objects.get_or_create(
        app_id=app_id,
        tenant_key=tenant_key,
        background_check_id=check_id,
        defaults={
            "account_id": account_id,
            "source_event_id": event_id,
            "package_id": str(event.get("package_id") or "")[:64],
            "additional_item_ids": [str(i) for i in event.get("additional_item_id_list") or []],
            "custom_field_values": values,
            "comment": str(event.get("comment") or ""),
            "candidate_name": candidate["name"],
            "candidate_first_name": str(raw_candidate.get("first_name") or "")[:100],
            "candidate_last_name": str(raw_candidate.get("last_name") or "")[:100],
            "candidate_mobile_code": candidate["mobile_code"],
            "candidate_mobile": candidate["mobile"],
            "candidate_email": candidate["email"],
            "contact_name": contact["name"],
            "contact_mobile_code": contact["mobile_code"],
            "contact_mobile": contact["mobile"],
            "contact_email": contact["email"],
            **_links(app_id, tenant_key, account_id),
        },
    )
    return check


def background_check_canceled(*, app_id: str, tenant_key: str, event_id: str, event: dict) -> int:
    """The customer terminated the check in Hire: the order ends, and what staff queued
    for it is closed unsent (Feishu would refuse it). Returns the rows changed (0: unknown
    order, or already ended)."""
    check_id = _required(event, "background_check_id")
    reason = str(event.get("termination_reason") or "")[:500]
    with transaction.atomic():
        check = (
            BackgroundCheck.objects.select_for_update()
            .filter(app_id=app_id, tenant_key=tenant_key, background_check_id=check_id)
            .first()
        )
        if check is None:
            # CHOICE: the created event may still be on its way (Feishu does not order
            # deliveries); failing lets the sweep retry until the order exists.
            raise OrderEventInvalid(
                Message(gettext_noop("No background check %(id)s yet: tried again later."), id=check_id)
            )
        if check.state in (CheckState.CANCELED, CheckState.TERMINATED, CheckState.COMPLETED):
            return 0
        now = timezone.now()
        BackgroundCheck.objects.filter(pk=check.pk).update(
            state=CheckState.CANCELED, cancel_reason=reason, ended_at=now
        )
        idle = Q(leased_until__isnull=True) | Q(leased_until__lt=now)  # one being sent finishes on its own
        OrderWrite.objects.filter(idle, background_check=check, status=CallStatus.QUEUED).update(
            status=CallStatus.FAILED, finished_at=now, error=Message(CANCELED_NOT_SENT)
        )
    return 1


def exam_created(*, app_id: str, tenant_key: str, event_id: str, event: dict) -> Exam:
    exam_id = _required(event, "exam_id")
    account_id = _required(event, "account_id")
    candidate = _person(event.get("candidate_info"))
    exam, _created = Exam.objects.get_or_create(
        app_id=app_id,
        tenant_key=tenant_key,
        exam_id=exam_id,
        defaults={
            "account_id": account_id,
            "source_event_id": event_id,
            "paper_id": str(event.get("paper_id") or "")[:255],
            # PY175 models these; the page does not list them: kept when present.
            "talent_id": str(event.get("talent_id") or "")[:64],
            "application_id": str(event.get("application_id") or "")[:64],
            "candidate_name": candidate["name"],
            "candidate_mobile_code": candidate["mobile_code"],
            "candidate_mobile": candidate["mobile"],
            "candidate_email": candidate["email"],
            **_links(app_id, tenant_key, account_id),
        },
    )
    return exam


def orders_link_binding(sender, binding, **kwargs) -> int:
    """A binding was decided: its account's orders follow it (its customer once bound)."""
    customer_id = binding.customer_id if binding.status == BindingStatus.BOUND else None
    found = {"app_id": binding.app_id, "tenant_key": binding.tenant_key, "account_id": binding.account_id}
    changed = 0
    for model in (BackgroundCheck, Exam):
        changed += model.objects.filter(**found).update(binding=binding, customer_id=customer_id)
    return changed
