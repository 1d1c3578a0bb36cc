"""The listener stores the events that arrive together in one commit and acknowledges them
together, after it: a batch that fails to commit acknowledges none of its events, and a
listener killed with a batch in hand loses nothing (Feishu redelivers what it did not
acknowledge). ``manage.py feishu_listen`` in its own process, the sandbox over a real WebSocket."""

import time

import pytest

from hireops.events.models import FeishuEvent
from tests.events.refusals import refusing

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"PingInterval": 1, "ReconnectNonce": 0, "ReconnectInterval": 1, "ReconnectCount": -1}


def wait(condition, timeout=20.0, what="condition", listener=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached" + (f"; log:\n{listener.log()[-4000:]}" if listener else ""))


@pytest.fixture
def feishu(sandbox, settings):
    settings.FEISHU_EVENT_TRANSPORT = "long_connection"
    sandbox.configure(
        delivery="long_connection", ack_timeout=1.0, client_config=FAST, retry_delays=[0.5, 1, 2, 4]
    )
    return sandbox


@pytest.fixture
def listener(feishu, start_listener):
    started = start_listener()
    wait(lambda: len(feishu.longconn_connections()) == 1, what="listener connected", listener=started)
    return started


def first_attempts(feishu, ids) -> dict[str, dict]:
    return {d["event_id"]: d for d in feishu.deliveries() if d["event_id"] in ids and d["attempt"] == 1}


def stored_ids(ids) -> set[str]:
    return set(FeishuEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))


def test_a_batch_that_fails_to_commit_acknowledges_none_of_its_events(feishu, listener):
    with refusing("INSERT"):
        ids = set(feishu.push_app_tickets(30))  # one burst: they reach the writer together
        decided = lambda: len(first_attempts(feishu, ids)) == 30  # noqa: E731
        wait(decided, what="every first attempt decided", listener=listener)
        assert {d["status"] for d in first_attempts(feishu, ids).values()} == {500}  # none acknowledged 200
        assert not stored_ids(ids)
        # They failed as a batch (then each alone, so one bad row cannot refuse its neighbours).
        assert any(
            line.split("inbox insert of ")[1].split(" ")[0] not in ("1", "")
            for line in listener.log().splitlines()
            if "inbox insert of " in line and " event(s) failed" in line
        ), listener.log()[-4000:]

    # Feishu's retries now find the database writable again.
    wait(lambda: stored_ids(ids) == ids, what="every event stored on a retry", listener=listener)

    def acked():  # the acknowledgement follows the commit: it may still be on its way
        return [d for d in feishu.deliveries() if d["event_id"] in ids and d["status"] == 200]

    wait(lambda: {d["event_id"] for d in acked()} == ids, what="every retry acknowledged", listener=listener)
    assert min(d["attempt"] for d in acked()) >= 2


def test_a_listener_killed_with_a_batch_in_hand_loses_nothing(feishu, listener, start_listener):
    ids: set[str] = set()
    for _ in range(10):  # bursts of 50, as Feishu would push under load
        ids |= set(feishu.push_app_tickets(50))

    def acked() -> set[str]:
        return {d["event_id"] for d in feishu.deliveries() if d["event_id"] in ids and d["status"] == 200}

    # Killed once a first batch is acknowledged: the acknowledgement follows the commit, so on
    # a busy machine a kill at the first commit could come before any acknowledgement left,
    # and the check below would have nothing to check.
    wait(acked, what="the first events acknowledged", listener=listener)
    listener.proc.kill()  # SIGKILL: no drain, whatever is in hand is cut off
    listener.proc.wait(10)
    # Nothing can commit any more: every event acknowledged 200 so far was committed before.
    assert acked() <= stored_ids(ids)

    # What it had not acknowledged, Feishu delivers again to the next listener.
    start_listener()
    wait(lambda: stored_ids(ids) == ids, timeout=40, what="all 500 events stored")
    assert FeishuEvent.objects.filter(event_id__in=ids).count() == 500  # once each
