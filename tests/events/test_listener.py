"""The long-connection mode as production runs it: ``manage.py feishu_listen`` in its own
process, connected to the sandbox over a real WebSocket, storing into the test database and
dispatching to a real Celery worker. The sandbox's faults (lost acks, drops, stalls, refused
reconnects) are what Feishu or the network can do."""

import time

import pytest
import requests

from hireops.events.models import EventStatus, FeishuEvent
from hireops.ops import report
from hireops.ops.models import AlertIncident, ProcessHeartbeat, ProcessKind

pytestmark = pytest.mark.django_db(transaction=True)

# Fast settings the sandbox sends the listener: a ping a second, reconnect at once.
FAST = {"PingInterval": 1, "ReconnectNonce": 0, "ReconnectInterval": 1, "ReconnectCount": -1}


def wait(condition, timeout=15.0, what="condition", listener=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(
        f"{what} not reached" + (f"; listener log:\n{listener.log()[-4000:]}" if listener else "")
    )


@pytest.fixture
def feishu(sandbox, settings):
    """The sandbox delivering over the long connection, waiting 1 s for acknowledgements."""
    settings.FEISHU_EVENT_TRANSPORT = "long_connection"  # what the status checks read here
    # Feishu retries after 15 s, 5 min, 1 h, 6 h; here after 0.5, 1, 2 and 4 s.
    sandbox.configure(
        delivery="long_connection", ack_timeout=1.0, client_config=FAST, retry_delays=[0.5, 1, 2, 4]
    )
    return sandbox


@pytest.fixture
def listener(feishu, start_listener):
    started = start_listener()
    wait(lambda: len(feishu.longconn_connections()) == 1, what="listener connected", listener=started)
    return started


def deliveries_of(feishu, event_id):
    return [d for d in feishu.deliveries() if d["event_id"] == event_id]


def acked(feishu, event_id) -> int:
    return sum(d["status"] == 200 for d in deliveries_of(feishu, event_id))


def stored(event_id) -> bool:
    return FeishuEvent.objects.filter(event_id=event_id).exists()


def test_events_become_inbox_rows_and_are_processed(feishu, listener, celery_worker):
    ticket = feishu.push_app_ticket()
    bound = feishu.bind_account(scope=1, account_name="长连接客户")
    celery_worker(
        lambda: FeishuEvent.objects.filter(status=EventStatus.PROCESSED).count() == 2,
        what="both events processed by the worker",
    )
    assert set(FeishuEvent.objects.values_list("event_id", flat=True)) == {
        ticket["uuid"],
        bound["header"]["event_id"],
    }
    # One delivery each, over the long connection, acknowledged 200 (after the commit: the
    # rows above exist; an ack sent earlier would have been answered 500 on failure).
    for event_id in (ticket["uuid"], bound["header"]["event_id"]):
        (delivery,) = deliveries_of(feishu, event_id)
        assert (delivery["transport"], delivery["status"]) == ("long_connection", 200)
    assert "(long connection)" in listener.log()


def test_fragmented_events_are_reassembled(feishu, listener):
    feishu.configure(fragment_bytes=40)
    bound = feishu.bind_account(scope=1, account_name="分片的客户" * 20)
    event_id = bound["header"]["event_id"]
    wait(lambda: acked(feishu, event_id) == 1, what="fragmented event acknowledged", listener=listener)
    row = FeishuEvent.objects.get(event_id=event_id)
    assert row.payload["event"]["account_name"] == "分片的客户" * 20


def test_an_unacknowledged_event_is_redelivered_and_deduplicated(feishu, listener, celery_worker):
    feishu.longconn_lose_acks(1)
    ticket = feishu.push_app_ticket()
    wait(lambda: acked(feishu, ticket["uuid"]) == 1, what="redelivered and acknowledged", listener=listener)
    first, second = deliveries_of(feishu, ticket["uuid"])
    assert (first["status"], second["status"], second["attempt"]) == (None, 200, 2)  # the first ack was lost
    celery_worker(
        lambda: FeishuEvent.objects.filter(event_id=ticket["uuid"], status=EventStatus.PROCESSED).exists(),
        what="event processed",
    )
    row = FeishuEvent.objects.get(event_id=ticket["uuid"])
    assert (row.duplicate_count, row.attempts) == (1, 1)  # stored once, processed once


@pytest.mark.parametrize("mode", ["close", "abort"])
def test_a_dropped_connection_is_reopened_and_nothing_is_lost(feishu, listener, mode):
    before = feishu.longconn_connections()[0]["device_id"]
    feishu.longconn_drop(mode)
    # Pushed while the listener is away: Feishu's retries reach it once it is back.
    events = [feishu.push_app_ticket()["uuid"] for _ in range(5)]
    wait(lambda: all(stored(e) for e in events), what="every event stored", listener=listener)
    (now,) = feishu.longconn_connections()
    assert now["device_id"] != before
    assert "long connection lost" in listener.log()


def test_a_silent_stall_is_detected_and_recovered(feishu, listener):
    feishu.longconn_stall()
    ticket = feishu.push_app_ticket()  # into the void: the stalled connection neither acks nor pongs
    wait(lambda: stored(ticket["uuid"]), what="event stored after the stall", listener=listener)
    assert "silent for" in listener.log()
    # Acknowledged after the commit: on a busy machine it may trail the row by a moment.
    wait(lambda: acked(feishu, ticket["uuid"]) >= 1, what="the event acknowledged", listener=listener)
    assert acked(feishu, ticket["uuid"]) == 1
    assert deliveries_of(feishu, ticket["uuid"])[0]["status"] is None  # the first went nowhere


def test_sigterm_finishes_what_is_in_hand_and_loses_nothing(feishu, listener, start_listener):
    feishu.configure(retry_delays=[2, 4, 8, 16])  # time for the next listener to start
    events = [feishu.push_app_ticket()["uuid"] for _ in range(40)]
    wait(lambda: any(stored(e) for e in events), what="the first event stored", listener=listener)
    assert listener.stop() == 0
    assert "Stopped" in listener.log()
    # Whatever the first listener had not acknowledged, Feishu redelivers to the next one.
    start_listener()
    wait(lambda: all(stored(e) for e in events), timeout=30, what="all 40 events stored")
    assert all(acked(feishu, e) >= 1 for e in events)
    assert FeishuEvent.objects.count() == 40


def test_both_transports_at_once_store_and_process_each_event_once(
    feishu, settings, start_listener, ingest_server, celery_worker
):
    settings.FEISHU_EVENT_TRANSPORT = "both"
    feishu.configure(
        delivery="both",
        webhook_url=str(ingest_server),
        encrypt_key=settings.FEISHU_ENCRYPT_KEY,
        verification_token=settings.FEISHU_VERIFICATION_TOKEN,
    )
    listener = start_listener(FEISHU_EVENT_TRANSPORT="both")
    wait(lambda: len(feishu.longconn_connections()) == 1, what="listener connected", listener=listener)
    ticket = feishu.push_app_ticket()
    wait(lambda: acked(feishu, ticket["uuid"]) == 2, what="both deliveries answered 200", listener=listener)
    assert {d["transport"] for d in deliveries_of(feishu, ticket["uuid"])} == {"webhook", "long_connection"}
    celery_worker(
        lambda: FeishuEvent.objects.filter(event_id=ticket["uuid"], status=EventStatus.PROCESSED).exists(),
        what="event processed",
    )
    time.sleep(1)  # a second dispatch, had there been one, would have run by now
    row = FeishuEvent.objects.get(event_id=ticket["uuid"])
    assert (row.duplicate_count, row.attempts) == (1, 1)


def test_health_heartbeat_status_and_alert_follow_the_connection(feishu, listener, settings):
    ready = readyz(listener)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["long_connection"]["ok"] is True
    assert requests.get(listener.health_url + "/healthz", timeout=10).json() == {"status": "alive"}
    wait(
        lambda: ProcessHeartbeat.objects.filter(kind=ProcessKind.LISTENER, state="connected").exists(),
        what="heartbeat row says connected",
    )

    # Feishu refuses the next reconnects: the listener stays alive, says why, and is alerted on.
    # A 403 is retried at the slow pace, ReconnectInterval (2 s here): about 8 s of refusals.
    feishu.configure(client_config={**FAST, "ReconnectInterval": 2})
    feishu.longconn_refuse(count=4, status=403, msg="forbidden")
    feishu.longconn_drop("close")

    def refused() -> bool:  # first "closed by Feishu", then, once it tried again, the refusal
        answer = readyz(listener)
        return (
            answer.status_code == 503
            and "handshake refused: 403" in (answer.json()["checks"]["long_connection"]["detail"])
        )

    wait(refused, what="not ready, saying Feishu refused the handshake", listener=listener)
    wait(
        lambda: ProcessHeartbeat.objects.filter(state__startswith="disconnected: handshake refused").exists(),
        what="heartbeat row says disconnected",
    )
    settings.FEISHU_LISTEN_ALERT_AFTER = 0
    finding = {f.key: f for f in report.build().findings}["events.listener.connected"]
    assert not finding.ok and "0/1" in finding.value

    from hireops.ops import alerts

    alerts.alerts_run()
    assert AlertIncident.objects.filter(key="events.listener.connected", resolved_at=None).exists()

    # The refusals end: the listener is back on its own, and the incident closes.
    feishu.wait_longconn_connections(1, timeout=20)
    wait(lambda: readyz(listener).status_code == 200, what="ready again", listener=listener)
    wait(lambda: ProcessHeartbeat.objects.filter(state="connected").exists(), what="heartbeat says connected")
    alerts.alerts_run()
    assert not AlertIncident.objects.filter(key="events.listener.connected", resolved_at=None).exists()


def readyz(listener):
    return requests.get(listener.health_url + "/readyz", timeout=10)


def test_the_listener_refuses_to_start_without_the_long_connection(start_listener, sandbox):
    with pytest.raises(AssertionError, match="FEISHU_EVENT_TRANSPORT=webhook"):
        start_listener(FEISHU_EVENT_TRANSPORT="webhook")


def test_metrics_count_what_the_listener_received(feishu, listener, tmp_path):
    ticket = feishu.push_app_ticket()
    wait(lambda: stored(ticket["uuid"]), what="stored", listener=listener)
    from prometheus_client import CollectorRegistry, generate_latest

    from hireops.ops.collectors import ProcessFilesCollector

    registry = CollectorRegistry()
    ProcessFilesCollector(registry)  # the exporter's: an empty file of a killed process is skipped
    text = generate_latest(registry).decode()
    assert 'hireops_longconn_events_total{outcome="stored"}' in text
    # Read at scrape time from the listeners' heartbeat rows.
    from hireops.ops.collectors import OperationsCollector

    (listeners,) = [m for m in OperationsCollector()._listeners() if m.name == "hireops_longconn_listeners"]
    assert {s.labels["state"]: s.value for s in listeners.samples} == {"connected": 1, "disconnected": 0}


@pytest.mark.parametrize(
    ("transport", "app_type", "error"),
    [
        ("long_connection", "self_built", None),
        ("both", "self_built", None),
        ("websocket", "self_built", "hireops.E013"),
        ("long_connection", "store", "hireops.E014"),
        ("both", "store", "hireops.E014"),
    ],
)
def test_the_transport_setting_is_checked(settings, transport, app_type, error):
    from django.core import checks

    settings.FEISHU_EVENT_TRANSPORT, settings.FEISHU_APP_TYPE = transport, app_type
    found = [m.id for m in checks.run_checks() if m.id in ("hireops.E013", "hireops.E014")]
    assert found == ([error] if error else [])
