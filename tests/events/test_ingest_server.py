"""The production path for Feishu's pushes: the ingest server (``IngestWorker``) serving
``config.ingest``, over real HTTP, with the real database and broker."""

import json

import pytest
import requests
from django.db import connection

from hireops.events.models import EventStatus, FeishuEvent

from .payloads import TOKEN, app_ticket_event, deliver_concurrently, eco_account_event, lark_encrypt, signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def secrets(settings):
    from .payloads import ENCRYPT_KEY

    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY  # the server inherits these (subprocess_env)
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def post(url, body, headers=None):
    return requests.post(
        url, data=body, timeout=10, headers={"Content-Type": "application/json", **(headers or {})}
    )


def test_challenge_event_and_refusals(ingest_server):
    inner = json.dumps({"challenge": "c-srv", "token": TOKEN, "type": "url_verification"})
    r = post(ingest_server, json.dumps({"encrypt": lark_encrypt(inner)}).encode())
    assert (r.status_code, r.json()) == (200, {"challenge": "c-srv"})

    body, headers = signed(eco_account_event(event_id="evt-srv"))
    r = post(ingest_server, body, headers)
    assert (r.status_code, r.json()) == (200, {"msg": "success"})
    # Answered only after the commit: the row is there the moment the 200 is.
    assert FeishuEvent.objects.filter(event_id="evt-srv").exists()

    bad_sig = post(ingest_server, body, {**headers, "X-Lark-Signature": "0" * 64})
    assert bad_sig.status_code == 401 and "signature" in bad_sig.json()["msg"]
    assert post(ingest_server, b"{oops", headers).status_code == 400
    assert post(ingest_server, b"").status_code == 400
    assert requests.get(ingest_server, timeout=10).status_code == 405
    assert FeishuEvent.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers")
def test_twenty_concurrent_duplicates_make_one_row(ingest_server):
    body, headers = signed(eco_account_event(event_id="evt-srv-storm"))
    statuses = deliver_concurrently(ingest_server, body, headers)
    assert statuses == [200] * 20
    event = FeishuEvent.objects.get()
    assert event.event_id == "evt-srv-storm" and event.duplicate_count == 19


def test_pushed_event_reaches_the_worker(ingest_server, celery_worker):
    from django.core.cache import cache

    from hireops.feishu.auth import ticket_key

    payload = app_ticket_event(ticket="tk-srv", app_id="cli_srv")
    assert post(ingest_server, *signed(payload)).status_code == 200
    celery_worker(
        lambda: FeishuEvent.objects.filter(event_id=payload["uuid"], status=EventStatus.PROCESSED).exists(),
        what="event processed by the worker",
    )
    assert cache.get(ticket_key("cli_srv")) == "tk-srv"


def test_graceful_stop_queues_what_it_stored(ingest_server, celery_worker):
    """SIGTERM right after a burst: every event the server acknowledged is queued before it
    exits, not left to the sweep."""
    payloads = [app_ticket_event(ticket=f"tk-{i}", app_id=f"cli_stop_{i}") for i in range(30)]
    for p in payloads:
        assert post(ingest_server, *signed(p)).status_code == 200
    ingest_server.stop()
    assert "Shutting down" in ingest_server.log() or "Handling signal" in ingest_server.log()
    ids = [p["uuid"] for p in payloads]
    celery_worker(
        lambda: FeishuEvent.objects.filter(event_id__in=ids, status=EventStatus.PROCESSED).count() == 30,
        what="all 30 events processed after the server stopped",
        timeout=20,
    )


def test_broker_down_still_acknowledges_and_the_sweep_queues_later(start_ingest_server, celery_worker):
    from datetime import timedelta

    from django.utils import timezone

    from hireops.events import tasks

    down = start_ingest_server(CELERY_BROKER_URL="redis://127.0.0.1:9/0")  # nothing listens there
    payload = app_ticket_event(ticket="tk-nobroker", app_id="cli_nobroker")
    assert post(down, *signed(payload)).status_code == 200
    event = FeishuEvent.objects.get(event_id=payload["uuid"])
    down.stop()  # publishing what is waiting fails too: the broker is still down
    assert "stored but not queued" in down.log()
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING

    FeishuEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    tasks.sweep.delay()  # the broker the rest of the project uses is up
    celery_worker(
        lambda: FeishuEvent.objects.filter(pk=event.pk, status=EventStatus.PROCESSED).exists(),
        what="swept and processed",
    )
