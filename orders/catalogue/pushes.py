"""Pushing a catalogue to one account's Feishu (docs/feishu.md §8.2, §8.3, §9.1).

A ``CataloguePush`` is committed first (one waits per account and catalogue: a second request
joins it), then sent by the outbound engine (hireops.outbound, ``PUSH``) in three steps,
with no transaction open during a call:

1. **claim**, in one short transaction: the account's ``CatalogueSync`` is leased to this
   push (another push of it being sent: try later), and what the account should have is
   read from committed rows;
2. **call** Feishu, one planned call after the other (``plans``); after each success the
   sync records what Feishu now has, so a push killed half-way leaves an exact base for the
   next one;
3. **finish**: the push is closed and the lease released.

A call that may have reached Feishu without an answer (a timeout, a 5xx) is tried again
later. The full-replace and overwrite calls are safe to repeat; a package create or delete
is not, so the ids it touched are kept as *uncertain* and the next attempt first asks Feishu
which way it went (``plans.probe``). A refusal is final and explained on the row.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from bindings.models import BindingStatus, EcoAccountBinding
from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import FeishuError, eco, get_client
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.feishu_calls.failures import Failure
from hireops.outbound.retry import TryLater
from hireops.webhooks.events import emit

from .. import failures
from . import plans
from .desired import desired, is_empty
from .models import CATALOGUE_SCOPE, SCOPE_CATALOGUES, CataloguePush, CatalogueSync, PushReason

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # longer than three calls with the client's timeouts and waits
BUSY = gettext_noop("Another push of this catalogue to this account is being sent; this one follows it.")
NOT_BOUND = gettext_noop("Not sent: the account is no longer bound to a customer.")
UP_TO_DATE = gettext_noop("Nothing to send: Feishu already has this catalogue.")
RETIRED = gettext_noop(
    "Not sent: the form-field keys %(keys)s were deleted from this account before, and Feishu never "
    "takes a deleted key again. Give those fields new keys."
)
PROBED = gettext_noop("An earlier attempt got no answer; Feishu was asked which way it went before going on.")
# Change-history message (hireops.core.audit), on a push staff asked for and on its account's binding.
PUSH_REQUESTED = gettext_noop("Catalogue push requested.")


def _wrong_scope(binding, catalogue) -> bool:
    return CATALOGUE_SCOPE[catalogue] != binding.scope


def push_request(binding, catalogue: str, reason: str, user=None, rollout=None) -> CataloguePush | None:
    """Queue a push of the catalogue to the account (call inside the requesting transaction);
    the waiting push when one already waits. None for an account of the other scope. A push
    staff ask for (``reason`` "staff") is in the change history, as ``user``'s."""
    if _wrong_scope(binding, catalogue):
        return None
    row = CataloguePush(
        binding=binding,
        catalogue=catalogue,
        tenant_key=binding.tenant_key,
        reason=reason,
        requested_by=user,
        rollout=rollout,
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # one waits already: it will send whatever is committed then
        waiting = CataloguePush.objects.filter(
            binding=binding, catalogue=catalogue, status=CallStatus.QUEUED, started_at__isnull=True
        )
        if rollout is not None:  # the rollout's progress counts it
            waiting.filter(rollout__isnull=True).update(rollout=rollout)
        push = waiting.first()
    else:
        push = row
        PUSH.send_on_commit(row.pk)
    if push is not None and reason == PushReason.STAFF:
        audit.record(user, [push, push.binding], PUSH_REQUESTED)
    return push


def push_on_bound(binding) -> list[CataloguePush]:
    """A binding was decided: once bound, its customer's catalogues are pushed (skipping one
    with nothing to send and nothing sent before)."""
    if binding.status != BindingStatus.BOUND or not binding.customer_id:
        return []
    pushed = []
    for catalogue in SCOPE_CATALOGUES[binding.scope]:
        has_sync = CatalogueSync.objects.filter(binding=binding, catalogue=catalogue).exists()
        if not has_sync and is_empty(desired(catalogue, binding.customer_id)):
            continue
        pushed.append(push_request(binding, catalogue, "bound"))
    return [p for p in pushed if p]


# --- sending -------------------------------------------------------------------------------


def _release(push: CataloguePush) -> None:
    CatalogueSync.objects.filter(binding_id=push.binding_id, catalogue=push.catalogue, sending=push).update(
        sending=None, leased_until=None
    )


@dataclass
class Pending:
    """What the claim found, and the planned call being made (for the record of a failure)."""

    sync: CatalogueSync
    wanted: dict
    call: plans.Call | None = None
    refused: str = ""  # plans.PlanRefused: the retired keys


def _prepare(push: CataloguePush) -> Pending | None:
    """The claim: the account's ``CatalogueSync`` is leased to this push (another push of it
    being sent: try later); what the account should have is read from committed rows."""
    binding = push.binding
    CatalogueSync.objects.get_or_create(binding=binding, catalogue=push.catalogue)
    sync = CatalogueSync.objects.select_for_update().get(binding=binding, catalogue=push.catalogue)
    now = timezone.now()
    if sync.sending_id not in (None, push.pk) and sync.leased_until and sync.leased_until > now:
        CataloguePush.objects.filter(pk=push.pk).update(note=Message(BUSY))
        raise TryLater(Message(BUSY))
    if binding.status != BindingStatus.BOUND or not binding.customer_id:
        outbound.close(PUSH, push, CallStatus.FAILED, error=Message(NOT_BOUND))
        return None
    wanted = desired(push.catalogue, binding.customer_id)
    CataloguePush.objects.filter(pk=push.pk).update(started_at=push.started_at or now, note="")
    sync.sending, sync.leased_until = push, now + LEASE
    sync.save(update_fields=["sending", "leased_until"])
    return Pending(sync, wanted)


def _record(push: CataloguePush, call: plans.Call, answer: dict) -> None:
    entry = {"op": call.op, "body": call.body, **answer, "at": timezone.now().isoformat()}
    push.calls = [*push.calls, entry]
    CataloguePush.objects.filter(pk=push.pk).update(calls=push.calls)


def _call(push: CataloguePush, call: plans.Call):
    body = {"account_id": push.binding.account_id, **call.body}
    return eco.catalogue_call(get_client(), push.catalogue, call.op, body, tenant_key=push.tenant_key or None)


def _succeeded(push: CataloguePush, sync: CatalogueSync, call: plans.Call, resp) -> None:
    with transaction.atomic():
        sync.sent = call.after
        sync.uncertain = {}
        sync.retired_keys = sorted({*sync.retired_keys, *call.retires})
        sync.pushed_at = timezone.now()
        sync.save(update_fields=["sent", "uncertain", "retired_keys", "pushed_at"])
        _record(push, call, {"code": 0, "log_id": resp.log_id})


def _uncertain(sync: CatalogueSync, call: plans.Call) -> dict:
    """The package and item ids a create or delete that may have reached Feishu touched, with
    the content each has if it did (a delete's: what Feishu had)."""
    body, have = call.body, sync.sent
    if call.op == "create":
        return {
            "packages": {p["id"]: call.after["packages"][p["id"]] for p in body.get("package_list", ())},
            "items": {i["id"]: call.after["items"][i["id"]] for i in body.get("additional_item_list", ())},
        }
    return {
        "packages": {c: have["packages"][c] for c in body.get("package_id_list", ())},
        "items": {c: have["items"][c] for c in body.get("additional_item_id_list", ())},
    }


def _probe(push: CataloguePush, sync: CatalogueSync) -> None:
    """Settle an uncertain create or delete before planning on top of it."""
    call = plans.probe(sync.uncertain)
    try:
        resp = _call(push, call)
    except FeishuError as exc:
        if exc.retryable:
            raise
        exists, answer = False, {"code": exc.code, "msg": exc.msg}
    else:
        exists, answer = True, {"code": 0, "log_id": resp.log_id}
    with transaction.atomic():
        sync.sent = plans.after_probe(sync.sent, sync.uncertain, exists)
        sync.uncertain = {}
        sync.save(update_fields=["sent", "uncertain"])
        _record(push, call, {**answer, "probe": True})
        CataloguePush.objects.filter(pk=push.pk).update(note=Message(PROBED))


def _send_all(push: CataloguePush, pending: Pending) -> Pending:
    """The calls (no transaction open): settle an uncertain call, then each planned one."""
    sync = pending.sync
    if sync.uncertain:
        _probe(push, sync)
    try:
        calls = plans.plan(push.catalogue, sync.sent, pending.wanted, sync.retired_keys)
    except plans.PlanRefused as exc:
        pending.refused = str(exc)
        return pending
    for call in calls:
        pending.call = call
        resp = _call(push, call)
        _succeeded(push, sync, call, resp)
    pending.call = None
    return pending


def _answer(push: CataloguePush, pending: Pending, result: Pending) -> dict[str, Any]:
    if pending.refused:
        return {"status": CallStatus.FAILED, "error": Message(RETIRED, keys=pending.refused)}
    push.refresh_from_db(fields=["calls"])
    return {} if push.calls else {"note": Message(UP_TO_DATE)}


def _record_failure(push: CataloguePush, pending: Pending, exc: FeishuError) -> None:
    if pending.call is not None:
        _record(push, pending.call, {"code": exc.code, "msg": exc.msg, "log_id": exc.log_id or ""})


def _retrying(push: CataloguePush, pending: Pending, exc: FeishuError, failure: Failure) -> None:
    _record_failure(push, pending, exc)
    call = pending.call
    unsafe = call is not None and push.catalogue == "packages" and call.op != "batch_update"
    if unsafe and failure.maybe_applied:
        CatalogueSync.objects.filter(pk=pending.sync.pk).update(uncertain=_uncertain(pending.sync, call))  # type: ignore[arg-type]


def _closed(push: CataloguePush) -> None:
    """A push that failed for good: partners hear of it (as ``GET …/pushes`` lists it), and
    the failures' trend counts it."""
    failures.mark_closed(push)
    failed = (
        CataloguePush.objects.select_related("binding").filter(pk=push.pk, status=CallStatus.FAILED).first()
    )
    if failed is not None:
        emit("catalogue.push.failed", failed, tenant_key=failed.tenant_key)


# The call is every planned call of the push: its answer is the claim's ``Pending`` as they left it.
PUSH: FeishuKind[CataloguePush, Pending, Pending] = outbound.register(
    outbound.Outbound(
        name="orders.push_catalogue",
        model=CataloguePush,
        related=("binding",),
        prepare=_prepare,
        call=_send_all,
        callee=FEISHU,
        answer=_answer,
        retrying=_retrying,
        refused=lambda push, pending, exc, failure: _record_failure(push, pending, exc),
        released=_release,
        closed=_closed,
        swept_by="orders.resume_catalogues",
        lease=LEASE,
    )
)


def push_retry(push: CataloguePush, user=None) -> CataloguePush | None:
    """Staff's "Push again": a new push (planned from what Feishu has now)."""
    with transaction.atomic():
        return push_request(push.binding, push.catalogue, "staff", user)


def pushes_resume(grace: timedelta = outbound.GRACE) -> int:
    """The sweep: queued pushes nothing is sending (their task lost, their worker dead)."""
    return outbound.resume(PUSH, grace)


def bound_accounts(catalogue: str):
    return EcoAccountBinding.objects.filter(
        status=BindingStatus.BOUND, customer__isnull=False, scope=CATALOGUE_SCOPE[catalogue]
    )
