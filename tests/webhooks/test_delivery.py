"""Delivering partners' webhooks: signed as Standard Webhooks says (verified by its own library),
retried with the same id, stopped by 410, never sent to a private address, written with the
change it reports, and delivered again after a worker dies mid-delivery."""

import json
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone, translation
from standardwebhooks import Webhook

from hireops import outbound
from hireops.core.models import CallStatus
from hireops.outbound.retry import TryLater
from hireops.webhooks import delivery, events, signing
from hireops.webhooks.addresses import RefusedAddress, check_url
from hireops.webhooks.delivery import DELIVER
from hireops.webhooks.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


def _ping_delivery(endpoint) -> WebhookDelivery:
    with transaction.atomic():
        event = events.record(events.get(events.PING), endpoint, [endpoint])
    return WebhookDelivery.objects.get(event=event)


def _verified(secret: str, received) -> dict:
    """What a partner's receiver does with the specification's library, unchanged."""
    return Webhook(secret).verify(received.body, received.headers)


pytestmark = pytest.mark.django_db


SEND = outbound.Outbound.send


@pytest.fixture(autouse=True)
def no_eager_sends(monkeypatch):
    """Each test runs the engine itself, attempt by attempt (the real worker runs it below)."""
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)


def test_a_ping_arrives_signed_and_the_standard_library_verifies_it(endpoint, receiver):
    row = _ping_delivery(endpoint)

    assert outbound.run(DELIVER, row.pk) == CallStatus.SUCCEEDED

    (got,) = receiver.requests
    payload = _verified(endpoint.secret_text, got)
    assert payload["type"] == "ping"
    assert payload["data"]["endpoint_id"] == endpoint.pk
    assert payload["timestamp"].endswith("Z")
    assert got.headers["webhook-id"] == row.event.webhook_id
    assert got.headers["content-type"] == "application/json"
    attempt = DeliveryAttempt.objects.get(delivery=row)
    assert attempt.status_code == 200 and attempt.response == "answered 200"


def test_a_wrong_secret_or_a_changed_body_fails_verification(endpoint, receiver):
    outbound.run(DELIVER, _ping_delivery(endpoint).pk)
    (got,) = receiver.requests
    with pytest.raises(Exception, match="signature"):
        Webhook(signing.new_secret()).verify(got.body, got.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoint.secret_text).verify(got.body.replace(b"ping", b"pong"), got.headers)


def test_a_failure_is_tried_again_with_the_same_id_on_the_schedule(endpoint, receiver):
    receiver.answers = [500, 503]
    row = _ping_delivery(endpoint)

    with pytest.raises(TryLater) as first:
        outbound.run(DELIVER, row.pk)
    assert 4.5 <= first.value.after <= 5.5  # the schedule's 5 s, within ±10 %
    row.refresh_from_db()
    assert row.status == CallStatus.QUEUED and row.last_status_code == 500 and "500" in row.error
    assert outbound.run(DELIVER, row.pk) == CallStatus.QUEUED  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    with pytest.raises(TryLater) as second:
        outbound.run(DELIVER, row.pk)
    assert 270 <= second.value.after <= 330  # then 5 minutes
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbound.run(DELIVER, row.pk) == CallStatus.SUCCEEDED

    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {row.event.webhook_id}
    assert len({r.headers["webhook-timestamp"] for r in receiver.requests}) >= 1
    for got in receiver.requests:
        _verified(endpoint.secret_text, got)
    assert [a.status_code for a in DeliveryAttempt.objects.filter(delivery=row)] == [500, 503, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # a success forgets the failures


def test_long_waits_are_parked_for_the_sweep_and_nothing_is_sent_twice_by_it(endpoint, receiver):
    """A wait of minutes or hours is no message in the broker: the row is parked and the sweep
    sends it when due, once; a row whose message is queued (even behind a backlog) is left to
    it until that message can be taken for lost."""
    from hireops.outbound.retry import run_retrying

    fresh = _ping_delivery(endpoint)
    assert delivery.send_due() == 0  # its message is in the broker
    WebhookDelivery.objects.filter(pk=fresh.pk).update(status=CallStatus.SUCCEEDED)

    receiver.answers = [500, 500]
    row = _ping_delivery(endpoint)
    with pytest.raises(TryLater) as soon:
        outbound.run(DELIVER, row.pk)
    assert not soon.value.parked  # 5 s: Celery's countdown, a message queued
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.send_due() == 0
    task = type("Task", (), {"request": type("Request", (), {"retries": 1})()})()
    assert run_retrying(task, lambda pk: outbound.run(DELIVER, pk), row.pk, None, max_retries=None) is None
    row.refresh_from_db()
    assert row.queued_at is None and row.next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert delivery.send_due() == 0  # parked, not due yet

    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.send_due() == 1 and delivery.send_due() == 0  # sent once, then in the broker
    WebhookDelivery.objects.filter(pk=row.pk).update(queued_at=timezone.now() - delivery.LOST_AFTER)
    assert delivery.send_due() == 1  # its message taken for lost: sent again
    assert outbound.run(DELIVER, row.pk) == CallStatus.SUCCEEDED
    assert delivery.send_due() == 0


def test_a_dead_workers_delivery_is_sent_once_its_lease_expires_and_once_only(endpoint, receiver):
    """A claim sets the lease and every outcome clears it, so an expired lease is a worker that
    died mid-delivery: the next sweep sends the row again, without waiting for LOST_AFTER, and
    clears the lease so the sweep after it leaves the row to that message."""
    row = _ping_delivery(endpoint)
    claimed = outbound._claim(DELIVER, row.pk)  # the worker claims it, then dies mid-call
    assert claimed is not None
    assert delivery.send_due() == 0  # its lease holds: maybe still being sent
    WebhookDelivery.objects.filter(pk=row.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert delivery.send_due() == 1
    row.refresh_from_db()
    assert row.leased_until is None and row.queued_at > timezone.now() - timedelta(minutes=1)
    assert delivery.send_due() == 0  # its new message is in the broker
    assert outbound.run(DELIVER, row.pk) == CallStatus.SUCCEEDED
    assert len(receiver.requests) == 1  # the dead worker's call never reached the receiver here


def test_after_the_last_attempt_the_delivery_fails_and_says_why(endpoint, receiver):
    receiver.answers = [500] * delivery.ATTEMPTS
    row = _ping_delivery(endpoint)
    for _ in range(delivery.ATTEMPTS - 1):
        with pytest.raises(TryLater):
            outbound.run(DELIVER, row.pk)
        WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbound.run(DELIVER, row.pk) == CallStatus.FAILED
    row.refresh_from_db()
    assert row.attempts == delivery.ATTEMPTS == 8
    assert "8 attempts" in row.error and "500" in row.error
    assert len(receiver.requests) == 8


def test_410_gone_disables_the_endpoint_at_once(endpoint, receiver):
    receiver.answers = [410]
    row = _ping_delivery(endpoint)

    assert outbound.run(DELIVER, row.pk) == CallStatus.FAILED

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert events.emit("ping", endpoint) is None  # a disabled endpoint hears nothing more
    queued = _ping_delivery(endpoint)  # one queued before: closed unsent when claimed
    assert outbound.run(DELIVER, queued.pk) == CallStatus.FAILED
    assert len(receiver.requests) == 1


def test_an_endpoint_failing_every_attempt_for_days_is_disabled(endpoint, receiver, settings):
    receiver.answers = [500]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    with pytest.raises(TryLater):
        outbound.run(DELIVER, _ping_delivery(endpoint).pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "5 days" in endpoint.disabled_reason


def test_a_timeout_is_tried_again(endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT = 0.5
    receiver.delay = 2
    row = _ping_delivery(endpoint)
    with pytest.raises(TryLater):
        outbound.run(DELIVER, row.pk)
    attempt = DeliveryAttempt.objects.get(delivery=row)
    assert attempt.status_code is None and attempt.error == "no answer in time"


def test_no_answer_is_said_once_in_each_readers_language(endpoint):
    """The worker writes in its language; the delivery log reads in the reader's, and says that
    nothing answered once, in words, not the exception's name (it said "no answer (no answer:
    ConnectionError)")."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{_closed_port()}/hooks")
    row = _ping_delivery(endpoint)
    with translation.override("zh-hans"), pytest.raises(TryLater):
        outbound.run(DELIVER, row.pk)
    for language, said in (("en", "no answer: could not connect"), ("zh-hans", "无应答：无法建立连接")):
        with translation.override(language):
            assert DeliveryAttempt.objects.get(delivery=row).error == said
            assert WebhookDelivery.objects.get(pk=row.pk).error == said


def test_deliveries_logged_before_read_in_each_readers_language_once_migrated(endpoint):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("hireops.webhooks.migrations.0005_delivery_errors_read_in_each_language")
    row = _ping_delivery(endpoint)
    for words in ("no answer: ConnectionError", "timed out", "refused: 10.0.0.1 不是公网地址。"):
        DeliveryAttempt.objects.create(delivery=row, error=words)
    wrapped = {"msgid": "no answer (%(error)s)", "params": {"error": "no answer: ReadError"}}
    gave_up = {"msgid": delivery.GAVE_UP, "params": {"attempts": 8, "reason": wrapped}}
    WebhookDelivery.objects.filter(pk=row.pk).update(error=json.dumps(gave_up))
    migration.rewrite(apps, None)
    # What 0005 stored, "no answer (%(error)s)" with the exception's name, reads as the fact.
    with translation.override("en"):
        assert list(DeliveryAttempt.objects.filter(delivery=row).values_list("error", flat=True)) == [
            "no answer: could not connect",
            "no answer in time",
            "not sent: 10.0.0.1 不是公网地址。",  # the words it was refused with, as written
        ]
        assert (
            WebhookDelivery.objects.get(pk=row.pk).error
            == "Not delivered after 8 attempts: no answer: the answer broke off"
        )
    with translation.override("zh-hans"):
        assert DeliveryAttempt.objects.filter(delivery=row).first().error == "无应答：无法建立连接"


def _closed_port() -> int:
    """A port of this machine nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- where a webhook may go -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",  # a name that resolves to 127.0.0.1
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://100.64.0.1/hooks",
        "http://93.184.215.14/hooks",  # public, but not https
        "https://user:pw@93.184.215.14/hooks",
        "ftp://93.184.215.14/hooks",
    ],
)
def test_private_addresses_and_plain_http_are_refused_when_saved(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(RefusedAddress):
        check_url(url)


def test_a_public_https_address_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    check_url("https://93.184.215.14/hooks")


def test_a_name_that_resolves_to_this_host_at_delivery_time_is_refused(
    endpoint, receiver, settings, monkeypatch
):
    """DNS rebinding: the name looked public when the endpoint was saved; by the delivery it
    resolves to 127.0.0.1. The connection's own address is checked: nothing is sent."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    port = receiver.url.split(":")[2].split("/")[0]
    real = socket.getaddrinfo
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", int(port)))]
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *a, **k: public if host == "partner.test" else real(host, *a, **k)
    )
    url = f"https://partner.test:{port}/hooks"
    check_url(url)  # saved: it resolved to a public address then
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url.replace("https", "http"))
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1", *a, **k) if host == "partner.test" else real(host, *a, **k),
    )
    row = _ping_delivery(endpoint)

    with pytest.raises(TryLater):
        outbound.run(DELIVER, row.pk)

    assert receiver.requests == []
    attempt = DeliveryAttempt.objects.get(delivery=row)
    assert attempt.status_code is None and "127.0.0.1 is not a public address" in attempt.error


def test_redirects_are_not_followed(endpoint, receiver):
    receiver.answers = [307]
    row = _ping_delivery(endpoint)
    with pytest.raises(TryLater):
        outbound.run(DELIVER, row.pk)
    assert len(receiver.requests) == 1


# --- the outbox -------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_an_event_is_written_with_its_change_or_not_at_all(endpoint, django_capture_on_commit_callbacks):
    with pytest.raises(Boom), transaction.atomic():
        events.emit("ping", endpoint)
        assert WebhookEvent.objects.count() == 1
        raise Boom
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()

    with django_capture_on_commit_callbacks() as queued, transaction.atomic():
        event = events.emit("ping", endpoint)
    assert WebhookDelivery.objects.get().event == event
    assert len(queued) == 1  # its delivery's task, queued once the change is committed


def test_an_endpoint_hears_only_its_types_tenants_and_scopes(db, receiver):
    from hireops.webhooks import endpoints

    only_orders, _ = endpoints.create(url=receiver.url, event_types=["order.created"], scopes=["orders:read"])
    one_tenant, _ = endpoints.create(url=receiver.url, tenants=["t-1"], scopes=["tenants:read"])
    no_scope = WebhookEndpoint.objects.create(url=receiver.url, scopes=[], secret="-")  # as before defaults
    order_type = events.get("order.created")
    assert only_orders.wants("order.created") and events.hears(only_orders, order_type)
    assert not only_orders.wants("binding.created") and only_orders.wants("ping")
    assert events._of_its_tenants(one_tenant, "t-1", None) and not events._of_its_tenants(
        one_tenant, "t-2", None
    )
    assert not events._of_its_tenants(one_tenant, "", None)
    assert events._of_its_tenants(one_tenant, "", lambda: {"t-1", "t-3"})
    assert not events.hears(no_scope, order_type)


# --- a real worker ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_means_it_is_delivered_again(
    endpoint, receiver, start_celery_worker, monkeypatch
):
    monkeypatch.setattr(outbound.Outbound, "send", SEND)  # tasks are queued for real here
    receiver.delay = 60  # the first request hangs: the worker is killed while it waits
    first = start_celery_worker()
    with transaction.atomic():
        event = events.emit("ping", endpoint)
    row = WebhookDelivery.objects.get(event=event)
    first(lambda: receiver.started.is_set(), what="the delivery reached the receiver")
    first.proc.kill()
    first.proc.wait()
    row.refresh_from_db()
    assert row.status == CallStatus.QUEUED and row.leased_until is not None  # the dead worker's lease

    receiver.delay = 0
    # Nothing is sent while its lease (2 minutes) holds; once it has expired, the next sweep
    # sends it (the lease moved into the past here), without waiting for LOST_AFTER.
    assert not delivery.due_rows().filter(pk=row.pk).exists()
    WebhookDelivery.objects.filter(pk=row.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert delivery.due_rows().filter(pk=row.pk).exists()
    second = start_celery_worker()
    from hireops.webhooks.tasks import send_due

    send_due.delay()
    second(
        lambda: WebhookDelivery.objects.get(pk=row.pk).status == CallStatus.SUCCEEDED,
        what="delivered by the second worker",
    )
    assert len(receiver.requests) == 2
    assert {r.headers["webhook-id"] for r in receiver.requests} == {event.webhook_id}
    assert json.loads(receiver.requests[1].body)["type"] == "ping"


@pytest.mark.django_db(transaction=True)  # the engine's own transactions, not savepoints
def test_a_deliverys_bookkeeping_never_waits_for_the_disk_and_feishus_calls_do(endpoint, receiver):
    """A delivery's state lost to a database crash means a redelivery (which receivers take
    anyway), so its commits skip the disk flush the ingest server's commits queue behind;
    a call to Feishu (a withdrawal) keeps every commit durable."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    row = _ping_delivery(endpoint)
    with CaptureQueriesContext(connection) as queries:
        assert outbound.run(DELIVER, row.pk) == CallStatus.SUCCEEDED
    sql = [q["sql"] for q in queries.captured_queries]
    relaxed = [i for i, s in enumerate(sql) if s == "SET LOCAL synchronous_commit TO off"]
    began = [i for i, s in enumerate(sql) if s == "BEGIN"]
    assert len(relaxed) == 2 and [i - 1 for i in relaxed] == began[:2]  # the claim's and the record's
    assert not any(k.relaxed_commit for k in outbound.kinds() if k is not DELIVER)


def test_a_timeout_whose_attempt_would_outlive_its_lease_is_refused_at_start(settings):
    """An attempt's hard limit is WEBHOOK_TIMEOUT + 30 s and its delivery's lease 2 minutes: past
    that, the sweep could hand a delivery still being sent to a second worker. The same holds
    for every outbound kind (a call to Feishu: OUTBOUND_TASK_TIME_LIMIT against 15 minutes)."""
    from django.core import checks

    def refused() -> list[str]:
        return [m.msg for m in checks.run_checks() if m.id == "hireops.E040"]

    assert refused() == []  # the defaults: 15 s, 660 s
    settings.WEBHOOK_TIMEOUT = 89
    assert refused() == []
    settings.WEBHOOK_TIMEOUT = 90
    assert refused() == [
        "The outbound kind 'webhooks.deliver' may run 120 s (its task's hard time limit), past its "
        "rows' lease of 120 s: a row still being sent could be sent a second time beside it."
    ]
    settings.WEBHOOK_TIMEOUT = 15
    settings.OUTBOUND_TASK_TIME_LIMIT = 900
    feishu = refused()
    assert "webhooks.deliver" not in " ".join(feishu)
    assert any("'referrals.withdraw' may run 900 s" in message for message in feishu)
    assert any("'orders.send_write' may run 900 s" in message for message in feishu)
