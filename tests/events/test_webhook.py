"""The webhook over Django's test client: verification, storage, dedupe, dispatch."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hireops.events import registry, services
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.publisher import publisher

from .payloads import (
    ENCRYPT_KEY,
    TOKEN,
    app_ticket_event,
    deliver_concurrently,
    eco_account_event,
    lark_encrypt,
    post_delivery,
    signed,
)

URL = "/feishu/events/"
TEST_TYPE = "hire.eco_account.created_v1"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


class Recorder:
    """A handler standing in for an app's handler: counts calls, can fail on demand."""

    def __init__(self):
        self.calls = []
        self.failures_left = 0
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.calls.append(event.event_id)
            if self.failures_left:
                self.failures_left -= 1
                raise RuntimeError("downstream unavailable")


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    # The type's handler replaced by a recorder: the first claim of a type is the one in force.
    claim = registry.EventType(TEST_TYPE, "tests.events.test_webhook.RECORDER", "events.view_feishuevent")
    monkeypatch.setattr(registry, "_claims", [claim, *registry.claims()])
    registry.import_handler.cache_clear()
    monkeypatch.setattr("tests.events.test_webhook.RECORDER", rec, raising=False)
    return rec


RECORDER = None


def post(client, payload=None, *, body=None, headers=None, **kw):
    if body is None:
        body, signed_headers = signed(payload, **kw)
        headers = {**signed_headers, **(headers or {})}
    return post_delivery(client, body, headers or {})


@pytest.mark.django_db
class TestChallenge:
    def test_plain(self, client):
        body = json.dumps({"challenge": "c-1", "token": TOKEN, "type": "url_verification"})
        resp = post(client, body=body.encode())
        assert resp.status_code == 200 and resp.json() == {"challenge": "c-1"}

    def test_encrypted(self, client):
        inner = json.dumps({"challenge": "c-2", "token": TOKEN, "type": "url_verification"})
        resp = post(client, body=json.dumps({"encrypt": lark_encrypt(inner)}).encode())
        assert resp.status_code == 200 and resp.json() == {"challenge": "c-2"}

    def test_wrong_token(self, client):
        body = json.dumps({"challenge": "c", "token": "nope", "type": "url_verification"})
        assert post(client, body=body.encode()).status_code == 403


@pytest.mark.django_db(transaction=True)
class TestAccepted:
    def test_signed_encrypted_event_is_stored_and_processed(self, client, recorder):
        payload = eco_account_event(event_id="evt-1")
        resp = post(client, payload)
        assert resp.status_code == 200
        event = FeishuEvent.objects.get(event_id="evt-1")
        assert (event.schema, event.event_type, event.tenant_key, event.account_id) == (
            "2.0",
            TEST_TYPE,
            "tenant-a",
            "acc-1",
        )
        assert event.payload == payload
        assert event.status == EventStatus.PROCESSED and event.attempts == 1
        assert recorder.calls == ["evt-1"]

    def test_redelivery_is_acknowledged_and_counted_only(self, client, recorder):
        payload = eco_account_event(event_id="evt-dup")
        assert post(client, payload).status_code == 200
        assert post(client, payload).status_code == 200
        event = FeishuEvent.objects.get(event_id="evt-dup")
        assert event.duplicate_count == 1 and recorder.calls == ["evt-dup"]

    def test_unknown_type_is_stored_as_ignored(self, client):
        payload = eco_account_event(event_id="evt-unknown")
        payload["header"]["event_type"] = "contact.department.created_v3"  # no app handles it
        assert post(client, payload).status_code == 200
        assert FeishuEvent.objects.get(event_id="evt-unknown").status == EventStatus.IGNORED

    def test_schema_1_app_ticket(self, client):
        from django.core.cache import cache

        from hireops.feishu.auth import ticket_key

        resp = post(client, app_ticket_event(ticket="tk-42", app_id="cli_store"))
        assert resp.status_code == 200
        event = FeishuEvent.objects.get(event_type="app_ticket")
        assert event.schema == "1.0" and event.status == EventStatus.PROCESSED
        assert cache.get(ticket_key("cli_store")) == "tk-42"

    def test_old_timestamp_within_feishu_retry_window_is_accepted(self, client, recorder):
        seven_hours_ago = str(int((timezone.now() - timedelta(hours=7)).timestamp()))
        assert post(client, eco_account_event(), ts=seven_hours_ago).status_code == 200


@pytest.mark.django_db
class TestRejected:
    def assert_rejected(self, resp, status):
        assert resp.status_code == status, resp.content
        assert "msg" in resp.json()
        assert FeishuEvent.objects.count() == 0

    def test_bad_signature(self, client):
        body, headers = signed(eco_account_event())
        headers["X-Lark-Signature"] = "0" * 64
        self.assert_rejected(post(client, body=body, headers=headers), 401)

    def test_missing_signature(self, client):
        body, _ = signed(eco_account_event())
        self.assert_rejected(post(client, body=body, headers={}), 401)

    def test_signature_with_another_key(self, client):
        self.assert_rejected(post(client, eco_account_event(), key="other-key"), 400)

    def test_bad_token(self, client):
        self.assert_rejected(post(client, eco_account_event(token="forged")), 403)

    def test_bad_json(self, client):
        self.assert_rejected(post(client, body=b"{not json", headers={}), 400)

    def test_undecryptable(self, client):
        body = json.dumps({"encrypt": "bm90IGEgY2lwaGVydGV4dA=="}).encode()
        self.assert_rejected(post(client, body=body, headers={}), 400)

    def test_empty_body(self, client):
        self.assert_rejected(post(client, body=b"", headers={}), 400)

    def test_oversized_body(self, client):
        self.assert_rejected(post(client, body=b"{" + b" " * (1024 * 1024 + 1) + b"}", headers={}), 413)

    def test_not_an_event(self, client):
        self.assert_rejected(post(client, {"hello": "world"}), 400)

    def test_timestamp_far_in_the_past(self, client):
        two_days_ago = str(int((timezone.now() - timedelta(days=2)).timestamp()))
        self.assert_rejected(post(client, eco_account_event(), ts=two_days_ago), 401)

    def test_get_is_not_allowed(self, client):
        assert client.get(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_handler_failure_then_reprocess_from_admin(client, admin_client, recorder):
    recorder.failures_left = 1
    assert post(client, eco_account_event(event_id="evt-fail")).status_code == 200
    event = FeishuEvent.objects.get(event_id="evt-fail")
    assert event.status == EventStatus.FAILED and event.attempts == 1
    assert "downstream unavailable" in event.last_error and event.next_attempt_at is not None

    resp = admin_client.post(
        "/admin/events/feishuevent/", {"action": "reprocess", "_selected_action": [event.pk]}, follow=True
    )
    assert resp.status_code == 200
    event.refresh_from_db()
    assert event.status == EventStatus.PROCESSED and event.attempts == 2 and event.last_error == ""
    assert recorder.calls == ["evt-fail", "evt-fail"]


@pytest.mark.django_db(transaction=True)
def test_broker_down_still_acknowledges_and_sweep_processes(client, recorder, monkeypatch):
    from kombu.exceptions import OperationalError

    from hireops.events import tasks

    def broker_refuses(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    with monkeypatch.context() as m:  # the broker is the fault injected; the rest is real
        m.setattr(tasks.process_events, "apply_async", broker_refuses)
        assert post(client, eco_account_event(event_id="evt-nobroker")).status_code == 200
    event = FeishuEvent.objects.get(event_id="evt-nobroker")
    assert event.status == EventStatus.PENDING and recorder.calls == []

    FeishuEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    assert services.events_sweep() == 1
    event.refresh_from_db()
    assert event.status == EventStatus.PROCESSED and recorder.calls == ["evt-nobroker"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers")
def test_twenty_concurrent_duplicates_make_one_row_and_one_processing(live_server, recorder):
    body, headers = signed(eco_account_event(event_id="evt-storm"))
    statuses = deliver_concurrently(live_server.url + URL, body, headers)
    assert statuses == [200] * 20
    # The row is queued for processing after the answers (the publisher thread): wait for it.
    assert publisher.flush(10.0)
    event = FeishuEvent.objects.get(event_id="evt-storm")
    assert FeishuEvent.objects.count() == 1 and event.duplicate_count == 19
    assert recorder.calls == ["evt-storm"] and event.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_nul_character_does_not_make_an_event_unstorable(client, recorder):
    """PostgreSQL's jsonb refuses U+0000; the event is kept with U+FFFD in its place."""
    payload = eco_account_event(event_id="evt-nul", custom_field_list=[{"key": "k", "value": "a\x00b"}])
    assert post(client, payload).status_code == 200
    stored = FeishuEvent.objects.get(event_id="evt-nul").payload
    assert stored["event"]["custom_field_list"] == [{"key": "k", "value": "a\ufffdb"}]
