"""Orders from Feishu's events (docs/feishu.md §8.5, §9.4).

Each event upserts one row keyed by (app, tenant, Feishu's order id): a redelivery, or staff
reprocessing the event, changes nothing that was already recorded. The order is linked to
its eco account's binding (same app, tenant and account) and, once bound, to the binding's
customer; an order that arrives before its binding is bound is linked when it is.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from bindings.models import BindingStatus, EcoAccountBinding
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.outbound import not_being_sent
from hireops.webhooks.events import emit

from . import busiest, failures, trend
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


def _person(raw, prefix: str, with_names: bool = False) -> dict:
    """A person of the event (``candidate_info``, ``client_contact_info``) as the order's
    ``<prefix>_*`` columns."""
    raw = raw if isinstance(raw, dict) else {}
    mobile = raw.get("mobile") if isinstance(raw.get("mobile"), dict) else {}
    person = {
        "name": str(raw.get("name") or "")[:200],
        "mobile_code": str(mobile.get("code") or "")[:6],
        "mobile": str(mobile.get("number") or "")[:32],
        "email": str(raw.get("email") or "")[:254],
    }
    if with_names:
        person["first_name"] = str(raw.get("first_name") or "")[:100]
        person["last_name"] = str(raw.get("last_name") or "")[:100]
    return {f"{prefix}_{key}": value for key, value in person.items()}


def _binding(app_id: str, tenant_key: str, account_id: str):
    return (
        EcoAccountBinding.objects.filter(app_id=app_id, tenant_key=tenant_key, account_id=account_id)
        .only("pk", "status", "customer_id")
        .first()
    )


def _customer_id(binding) -> int | None:
    """An order's customer is its binding's, once the binding is bound."""
    return binding.customer_id if binding is not None and binding.status == BindingStatus.BOUND else None


def _links(app_id: str, tenant_key: str, account_id: str) -> dict:
    binding = _binding(app_id, tenant_key, account_id)
    return {"binding": binding, "customer_id": _customer_id(binding)}


def background_check_created(*, app_id: str, tenant_key: str, event_id: str, event: dict) -> BackgroundCheck:
    check_id = _required(event, "background_check_id")
    account_id = _required(event, "account_id")
    values = [
        {"key": str(i.get("key") or ""), "value": str(i.get("value") or "")}
        for i in event.get("custom_field_list") or []
        if isinstance(i, dict)
    ]
    with transaction.atomic():
        check, created = BackgroundCheck.objects.get_or_create(
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
                **_person(event.get("candidate_info"), "candidate", with_names=True),
                **_person(event.get("client_contact_info"), "contact"),
                **_links(app_id, tenant_key, account_id),
            },
        )
        if created:
            trend.mark_received(check.received_at, trend.due_of("check", check.package_id, check.received_at))
            emit("order.created", check, tenant_key=tenant_key)
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
            state=CheckState.CANCELED, cancel_reason=reason, ended_at=now, updated_at=now
        )
        trend.mark_ended([check.ended_at, now, trend.due_of("check", check.package_id, check.received_at)])
        # A write being sent right now finishes on its own (Feishu answers 1002858).
        if OrderWrite.objects.filter(
            not_being_sent(now), background_check=check, status=CallStatus.QUEUED
        ).update(status=CallStatus.FAILED, finished_at=now, error=Message(CANCELED_NOT_SENT)):
            failures.mark_failed(now)
        check.refresh_from_db()
        emit("order.canceled", check, tenant_key=tenant_key)
    return 1


def exam_created(*, app_id: str, tenant_key: str, event_id: str, event: dict) -> Exam:
    exam_id = _required(event, "exam_id")
    account_id = _required(event, "account_id")
    with transaction.atomic():
        exam, created = Exam.objects.get_or_create(
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
                **_person(event.get("candidate_info"), "candidate"),
                **_links(app_id, tenant_key, account_id),
            },
        )
        if created:
            trend.mark_received(exam.received_at, trend.due_of("exam", exam.paper_id, exam.received_at))
            emit("order.created", exam, tenant_key=tenant_key)
    return exam


def orders_link_binding(sender, binding, **kwargs) -> int:
    """A binding was decided: its account's orders follow it (its customer once bound)."""
    customer_id = _customer_id(binding)
    found = {"app_id": binding.app_id, "tenant_key": binding.tenant_key, "account_id": binding.account_id}
    changed, now = 0, timezone.now()
    for model in (BackgroundCheck, Exam):
        busiest.mark_linked(model.objects.filter(**found).exclude(customer_id=customer_id))
        changed += model.objects.filter(**found).update(
            binding=binding, customer_id=customer_id, updated_at=now
        )
    return changed
