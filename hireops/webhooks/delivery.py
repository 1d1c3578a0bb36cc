"""Delivering an event to an endpoint: a kind of the outbound engine (``hireops.outbound``).

- **claim**: the endpoint enabled (else the delivery fails, saying so), the delivery due (an
  early or repeated message does nothing), and a free slot: at most
  ``WEBHOOK_ENDPOINT_CONCURRENCY`` deliveries to one endpoint in flight. A delivery finding
  none waits on its row (``waiting_for_slot``) and the next delivery to that endpoint that
  finishes hands it the slot, so a slow partner holds a bounded share of the workers and no
  task spins waiting.
- **call**: the body (the same bytes every attempt), signed at the attempt's time, posted.
- **record**: each attempt a ``DeliveryAttempt`` row. Any 2xx: delivered. ``410 Gone``: the
  endpoint is disabled at once. Anything else (another status, a timeout, a refused
  connection or address) is tried again with the same ``webhook-id`` on ``SCHEDULE``, within
  ±10 % jitter; after its last attempt the delivery fails. An endpoint whose every attempt has
  failed for ``WEBHOOK_DISABLE_AFTER_DAYS`` is disabled and the operators alerted.

Waits up to ``COUNTDOWN_AT_MOST`` are Celery's countdown; longer ones are parked on the row
(``next_attempt_at``, no message in the broker) and the ``send_due`` sweep (every 10 s) sends
them when due. The sweep also sends what a killed worker left (an expired lease: within
``LEASE`` and a tick) and what a lost message left, but only a row whose message was queued over
``LOST_AFTER`` ago (``queued_at``): a backlog in the broker is not multiplied by the sweep. A
redelivery is harmless: the receiver has the ``webhook-id`` to tell.
"""

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy

from hireops import outbound
from hireops.api.models import ApiKey
from hireops.core import audit
from hireops.core.messages import Message, upgraded
from hireops.core.models import CallStatus

from . import events, retire, signing, transport
from .models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    import requests
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# Seconds after each failed attempt before the next (Standard Webhooks' example schedule, Svix's):
# the first attempt at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts, ~27.6 h.
SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
ATTEMPTS = len(SCHEDULE) + 1
JITTER = 0.10
COUNTDOWN_AT_MOST = 60  # longer waits are parked on the row for the sweep
# A message queued this long ago whose row nothing claimed since is taken for lost. Longer than
# a broker's backlog lasts in practice (10,000 events to three endpoints: bench/webhooks.py).
LOST_AFTER = timedelta(minutes=15)
LEASE = timedelta(minutes=2)  # well past one attempt's WEBHOOK_TIMEOUT (15 s)
GONE = 410

DISABLED = gettext_noop("The endpoint is disabled: %(reason)s")
GONE_REASON = gettext_noop("it answered 410 Gone")
FAILING_REASON = gettext_noop("every attempt failed for %(days)s days")
GAVE_UP = gettext_noop("Not delivered after %(attempts)s attempts: %(reason)s")
ANSWERED = gettext_noop("it answered %(status)s")
CUT = gettext_noop("no answer within the task's time limit")
# Change-history messages (hireops.core.audit), translated when read: on each delivery sent
# again, and on the endpoint whose failed deliveries were.
RESENT = gettext_noop("Delivery sent again.")
RESENT_FAILED = ngettext_lazy(
    "Sent again %(n)s failed delivery requested since %(since)s.",
    "Sent again %(n)s failed deliveries requested since %(since)s.",
    "n",
)
# History written before the count had its plural forms reads with them.
upgraded(
    "Sent again %(n)s failed deliveries requested since %(since)s.",
    lambda params: Message(RESENT_FAILED, **params),
)


@dataclass(frozen=True)
class Body:
    url: str
    msg_id: str
    data: bytes
    signing_secrets: list[str]
    failing: bool  # the endpoint's last attempts failed: a success clears that


@dataclass(frozen=True)
class Failure:
    """The engine's failure for a delivery (``RECEIVER.judge``)."""

    retry: bool
    reason: str
    after: float | None
    maybe_applied: bool = False
    parked: bool = False  # waits on its row for the sweep: no task queued

    def fields(self) -> dict[str, Any]:
        return {"error": self.reason}


class NotDelivered(Exception):
    def __init__(self, answer: transport.Answer):
        super().__init__(answer.error or f"HTTP {answer.status}")
        self.answer = answer


def _reason(answer: transport.Answer) -> str:
    """The answer's status, or why there was none (the transport says it whole)."""
    if answer.status is not None:
        return Message(ANSWERED, status=answer.status)
    return answer.error


def delay(attempts_done: int) -> float:
    """Seconds before the next attempt after ``attempts_done`` failed ones, jittered."""
    base = SCHEDULE[attempts_done - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 (a spread, not a secret)


# --- claim ----------------------------------------------------------------------------------


def _prepare(row: WebhookDelivery) -> Body | None:
    now = timezone.now()
    if row.next_attempt_at and row.next_attempt_at > now + timedelta(seconds=1):
        return None  # not due: an early or repeated message
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=row.endpoint_id)
    if endpoint.enabled and endpoint.owner_key_id is not None:
        # Its key may have stopped a moment ago: the sweep or the revocation may not have
        # disabled the endpoint yet, and nothing is sent for a key that no longer works.
        stopped = retire.why_stopped(ApiKey.objects.get(pk=endpoint.owner_key_id))
        if stopped is not None:
            disable(endpoint.pk, stopped)
            endpoint.enabled, endpoint.disabled_reason = False, stopped
    if not endpoint.enabled:
        reason = Message(DISABLED, reason=str(endpoint.disabled_reason) or "-")
        outbound.close(DELIVER, row, CallStatus.FAILED, error=reason, next_attempt_at=None)
        return None
    in_flight = WebhookDelivery.objects.filter(
        endpoint_id=endpoint.pk, status=CallStatus.QUEUED, leased_until__gt=now
    ).count()
    if in_flight >= settings.WEBHOOK_ENDPOINT_CONCURRENCY:
        WebhookDelivery.objects.filter(pk=row.pk).update(waiting_for_slot=True)
        return None  # handed a slot by the next delivery to finish (or the sweep)
    if row.waiting_for_slot:
        WebhookDelivery.objects.filter(pk=row.pk).update(waiting_for_slot=False)
    event = row.event
    return Body(
        url=endpoint.url,
        msg_id=event.webhook_id,
        data=events.payload(event, endpoint),
        signing_secrets=signing.signing_secrets(endpoint, now),
        failing=endpoint.failing_since is not None,
    )


# --- call -----------------------------------------------------------------------------------

_local = threading.local()


def _http() -> "requests.Session":
    if not hasattr(_local, "session"):
        _local.session = transport.session()
    session: requests.Session = _local.session
    return session


def _call(row: WebhookDelivery, body: Body) -> transport.Answer:
    stamp = int(time.time())
    answer = transport.post(
        body.url, body.data, signing.headers(body.signing_secrets, body.msg_id, stamp, body.data), _http()
    )
    if not answer.ok:
        raise NotDelivered(answer)
    return answer


# --- record ---------------------------------------------------------------------------------


def _log(row: WebhookDelivery, answer: transport.Answer) -> None:
    DeliveryAttempt.objects.create(
        delivery_id=row.pk,
        at=timezone.now() - timedelta(milliseconds=answer.duration_ms),
        duration_ms=answer.duration_ms,
        status_code=answer.status,
        error=answer.error,
        response=answer.text,
    )


def _answer(row: WebhookDelivery, body: Body, answer: transport.Answer) -> dict[str, Any]:
    _log(row, answer)
    if body.failing:
        WebhookEndpoint.objects.filter(pk=row.endpoint_id).update(failing_since=None)
    return {"error": "", "last_status_code": answer.status, "next_attempt_at": None}


def _judge(row: WebhookDelivery, exc: NotDelivered) -> Failure:
    answer = exc.answer if isinstance(exc, NotDelivered) else transport.Answer(None, 0, error=str(exc))
    reason = _reason(answer)
    if answer.status == GONE:
        return Failure(retry=False, reason=reason, after=None)
    done = row.attempts  # this attempt included: the claim counts it on the row and on this copy
    if done >= ATTEMPTS:
        return Failure(retry=False, reason=Message(GAVE_UP, attempts=done, reason=reason), after=None)
    after = delay(done)
    return Failure(retry=True, reason=reason, after=after, parked=after > COUNTDOWN_AT_MOST)


def _failing(row: WebhookDelivery, answer: transport.Answer | None) -> None:
    """Mark the endpoint failing since now (if not already), or disable it when it has failed long enough."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=row.endpoint_id, failing_since__isnull=True).update(failing_since=now)
    if answer is not None and answer.status == GONE:
        disable(row.endpoint_id, Message(GONE_REASON))
        return
    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    failing = WebhookEndpoint.objects.filter(
        pk=row.endpoint_id, enabled=True, failing_since__lte=now - timedelta(days=days)
    ).exists()
    if failing:
        disable(row.endpoint_id, Message(FAILING_REASON, days=days))


def _retrying(row: WebhookDelivery, body: Body, exc: NotDelivered, failure: Failure) -> None:
    answer = exc.answer if isinstance(exc, NotDelivered) else None
    if answer is not None:
        _log(row, answer)
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=row.pk).update(
        next_attempt_at=now + timedelta(seconds=failure.after),  # type: ignore[arg-type]  # a retry's
        queued_at=None if failure.parked else now,  # parked: the sweep sends it when due
        last_status_code=answer.status if answer else None,
    )
    _failing(row, answer)


def _refused(row: WebhookDelivery, body: Body, exc: NotDelivered, failure: Failure) -> None:
    answer = exc.answer if isinstance(exc, NotDelivered) else None
    if answer is not None:
        _log(row, answer)
    WebhookDelivery.objects.filter(pk=row.pk).update(
        next_attempt_at=None, last_status_code=answer.status if answer else None
    )
    _failing(row, answer)


def _released(row: WebhookDelivery) -> None:
    """A slot of the endpoint is free: hand it to the delivery waiting longest for one."""
    waiters = WebhookDelivery.objects.filter(
        endpoint_id=row.endpoint_id, status=CallStatus.QUEUED, waiting_for_slot=True
    )
    if not waiters.exists():  # the usual case: one statement, no transaction
        return
    with transaction.atomic():
        waiting = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(endpoint_id=row.endpoint_id, status=CallStatus.QUEUED, waiting_for_slot=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:1]
        )
        pks = list(waiting)
        if pks:
            WebhookDelivery.objects.filter(pk=pks[0]).update(waiting_for_slot=False, queued_at=timezone.now())
            transaction.on_commit(lambda: DELIVER.send(pks[0]))


def _cut(kind: outbound.AnyKind) -> NotDelivered:
    return NotDelivered(transport.Answer(None, int(settings.WEBHOOK_TIMEOUT * 1000), error=Message(CUT)))


def _time_limits() -> tuple[float, float]:
    """An attempt's soft and hard limits: its whole time (``WEBHOOK_TIMEOUT``) and room to
    record it, read when the worker asks (its own settings, not those of the import)."""
    return int(settings.WEBHOOK_TIMEOUT) + 15, int(settings.WEBHOOK_TIMEOUT) + 30


def _give_up(pk: int, reason: str) -> str:  # never reached: retries are unlimited, the judge stops them
    return CallStatus.QUEUED


# Every delivery attempt is counted, per endpoint, in the operators' trend (hireops.webhooks.trend).
TREND = "webhooks.deliveries"

# A partner's receiver, as the engine sees it: a delivery that did not get a 2xx, judged on the
# specification's schedule; nothing to clear on a success (the attempt has its own row).
RECEIVER: outbound.Callee[WebhookDelivery, NotDelivered, Failure] = outbound.Callee(
    errors=(NotDelivered,), judge=_judge, cut=_cut, cleared=lambda answer: {}, trend=TREND
)


def _endpoint(row: WebhookDelivery) -> str:
    """What a delivery counts under in the trend: its endpoint's id (a name is the reader's to see)."""
    return str(row.endpoint_id)


# The kind of a delivery: its row, body and answer, and its callee's error and failure.
DeliveryKind = outbound.Outbound[WebhookDelivery, Body, transport.Answer, NotDelivered, Failure]

DELIVER: DeliveryKind = outbound.register(
    outbound.Outbound(
        name="webhooks.deliver",
        model=WebhookDelivery,
        prepare=_prepare,
        call=_call,
        callee=RECEIVER,
        answer=_answer,
        retrying=_retrying,
        refused=_refused,
        released=_released,
        related=("event",),
        lease=LEASE,
        swept_by="webhooks.send_due",  # its own sweep, every 10 s
        give_up=_give_up,
        max_retries=None,
        queue="webhooks",
        relaxed_commit=True,  # a state lost to a database crash means a redelivery, never a loss
        time_limits=_time_limits,
        trend_dimension=_endpoint,
        watch=outbound.Watch(
            waiting_since="next_attempt_at",
            stuck_title=_("{what}: due for over 30 minutes"),
            failed_title=_("{what}: failed in the last 24 hours"),
        ),
    )
)


def disable(endpoint_pk: int, reason: str) -> bool:
    """Disable an endpoint (its queued deliveries fail when claimed) and alert the operators once."""
    done = WebhookEndpoint.objects.filter(pk=endpoint_pk, enabled=True).update(
        enabled=False, disabled_reason=reason, updated_at=timezone.now()
    )
    if done:
        log.warning("webhook endpoint %s disabled: %s", endpoint_pk, reason)
    return bool(done)


# --- the sweep and resending ----------------------------------------------------------------

SWEEP_AT_MOST = 5000


def due_rows(now: datetime | None = None) -> "QuerySet[WebhookDelivery]":
    """Queued deliveries nothing is sending that should be sent now: parked ones now due; one
    whose worker died (its lease expired: only a claim sets one, and every outcome clears it);
    and one whose message was lost (queued over ``LOST_AFTER`` ago and not claimed since: a
    lost message, a slot's waiter nothing handed one). A message merely waiting in a backlog
    is not sent twice."""
    now = now or timezone.now()
    nothing_queued = (
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - LOST_AFTER) | Q(leased_until__isnull=False)
    )
    return WebhookDelivery.objects.filter(
        outbound.not_being_sent(now), nothing_queued, status=CallStatus.QUEUED, next_attempt_at__lte=now
    )


def send_due() -> int:
    """Queue what is due, once the endpoints of keys that expired since are disabled. The rows
    are locked while marked queued (the dead worker's lease cleared), so a claim racing the
    sweep either comes first (and the row is not due) or finds the row as the sweep left it; a
    row marked here is not due again at the next sweep."""
    retire.expired_keys()
    now = timezone.now()
    with transaction.atomic():
        due = due_rows(now).select_for_update(skip_locked=True).order_by("next_attempt_at")
        pks = list(due.values_list("pk", flat=True)[:SWEEP_AT_MOST])
        WebhookDelivery.objects.filter(pk__in=pks).update(queued_at=now, leased_until=None)
    for pk in pks:
        DELIVER.send(pk)
    return len(pks)


def resend(deliveries: "QuerySet[WebhookDelivery]", by: "User | None" = None) -> int:
    """Send these deliveries again from the start of the schedule (the same event, the same
    ``webhook-id``), whatever became of them; one being sent right now is left to finish.
    Each one sent again is in ``by``'s change history."""
    with transaction.atomic():
        pks = _resend(deliveries)
        audit.record(by, WebhookDelivery.objects.filter(pk__in=pks), RESENT)
    return len(pks)


def _resend(deliveries: "QuerySet[WebhookDelivery]") -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        rows = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(
            outbound.not_being_sent(now), pk__in=deliveries.values("pk")
        )
        pks = list(rows.values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=pks).update(
            status=CallStatus.QUEUED,
            attempts=0,
            error="",
            finished_at=None,
            next_attempt_at=now,
            waiting_for_slot=False,
            requested_at=now,
            queued_at=now,
        )
        transaction.on_commit(lambda: [DELIVER.send(pk) for pk in pks])  # type: ignore[func-returns-value]
    return pks


def resend_failed_since(endpoint: WebhookEndpoint, since: datetime, by: "User | None" = None) -> int:
    """Send again every delivery to ``endpoint`` that failed since ``since``; the endpoint's
    change history says how many."""
    with transaction.atomic():
        n = len(_resend(endpoint.deliveries.filter(status=CallStatus.FAILED, requested_at__gte=since)))
        audit.record(by, [endpoint], RESENT_FAILED, {"n": n, "since": since.isoformat()})
    return n
