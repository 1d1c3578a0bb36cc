"""Both coordination backends: file locks always, Redis when REDIS_URL is set (CI)."""

import itertools
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

from hireops.feishu.coordination import (
    FileCoordinator,
    LockTimeout,
    RedisCoordinator,
    ReservationTooFar,
    get_coordinator,
)

REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(params=["file", "redis"])
def coord_url(request, tmp_path):
    if request.param == "file":
        return f"file://{tmp_path / 'coord'}"
    if not REDIS_URL:
        pytest.skip("REDIS_URL is not set (CI sets it); the Redis backend is not exercised")
    return REDIS_URL


@pytest.fixture
def coord(coord_url):
    c = get_coordinator(coord_url)
    if isinstance(c, RedisCoordinator):
        c._prefix = f"test:{uuid.uuid4().hex}:"  # isolate runs sharing one Redis
    return c


def test_factory_picks_backend_by_url(tmp_path):
    assert isinstance(get_coordinator(f"file://{tmp_path}/c"), FileCoordinator)
    assert (tmp_path / "c").is_dir()
    assert isinstance(get_coordinator("redis://127.0.0.1:1/0"), RedisCoordinator)  # lazy: no connection yet
    with pytest.raises(ValueError):
        get_coordinator("memcached://x")


# Slots are minutes apart and the tolerance a second: what these tests read is the schedule the
# coordinator keeps, never how fast this machine runs between two calls (a loaded CI machine can
# stall a process for tens of milliseconds anywhere).
MINUTE = 60.0
STALL = 1.0  # far more than any stall between two calls of one test


def test_reserve_spaces_callers_by_interval(coord):
    waits = [coord.reserve("k", MINUTE, 10 * MINUTE) for _ in range(5)]
    assert waits[0] == pytest.approx(0, abs=STALL)
    for i, w in enumerate(waits):
        assert w == pytest.approx(MINUTE * i, abs=STALL)


def test_reserve_refuses_without_taking_a_slot_beyond_max_wait(coord):
    coord.reserve("k", MINUTE, 10 * MINUTE)
    with pytest.raises(ReservationTooFar) as exc:
        coord.reserve("k", MINUTE, MINUTE / 2)
    assert exc.value.wait == pytest.approx(MINUTE, abs=STALL)
    # The refused call took nothing.
    assert coord.reserve("k", MINUTE, 10 * MINUTE) == pytest.approx(MINUTE, abs=STALL)


def test_push_back_delays_the_next_slot_for_everyone(coord):
    coord.push_back("k", 2 * MINUTE)
    assert coord.reserve("k", MINUTE / 10, 10 * MINUTE) == pytest.approx(2 * MINUTE, abs=STALL)
    coord.push_back("k", MINUTE / 2)  # never moves the schedule earlier
    assert coord.reserve("k", MINUTE / 10, 10 * MINUTE) == pytest.approx(2.1 * MINUTE, abs=STALL)


def test_lock_is_exclusive_across_threads(coord):
    inside, peak = [0], [0]
    guard = threading.Lock()

    def work():
        with coord.lock("L", timeout=5):
            with guard:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.05)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1


def test_lock_wait_is_bounded(coord):
    with coord.lock("L", timeout=MINUTE):
        started = time.monotonic()
        with pytest.raises(LockTimeout), coord.lock("L", timeout=MINUTE, wait=0.2):
            pass
        assert time.monotonic() - started < MINUTE / 2  # gave up after `wait`, not the holder's timeout
    with coord.lock("L", timeout=5, wait=0.2):  # released after the block
        pass


def test_redis_lock_expiry_does_not_let_the_old_holder_release_the_new_one():
    if not REDIS_URL:
        pytest.skip("REDIS_URL is not set (CI sets it)")
    c = RedisCoordinator(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    first = c.lock("L", timeout=0.1)
    first.__enter__()
    time.sleep(0.2)  # TTL passed: the lock is free again
    with c.lock("L", timeout=5, wait=0.5):
        first.__exit__(None, None, None)  # token-checked: must not delete the new holder's key
        with pytest.raises(LockTimeout), c.lock("L", timeout=5, wait=0.1):
            pass


_RESERVE_SLOTS = """
import sys, time
from hireops.feishu.coordination import get_coordinator
c = get_coordinator(sys.argv[1])
if len(sys.argv) > 2:
    c._prefix = sys.argv[2]
for _ in range(4):
    print(time.time() + c.reserve("shared", 60.0, 3600), flush=True)
"""


@pytest.mark.processes
def test_reserve_is_shared_between_processes(coord_url):
    """Three processes take four slots each of one schedule, a minute apart: the slots they
    get (when each would send) are twelve distinct minutes. Each slot is read as "now + wait"
    in the process, so it is off by however long the process stalled around the call, which
    is bounded by the whole test's duration: far less than the minute between two slots."""
    args = [coord_url] + ([f"test:{uuid.uuid4().hex}:"] if coord_url.startswith("redis") else [])
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RESERVE_SLOTS, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    slots = sorted(float(line) for p in procs for line in p.communicate(timeout=60)[0].split())
    took = time.monotonic() - started
    assert all(p.returncode == 0 for p in procs)
    assert len(slots) == 12
    assert took < MINUTE / 2, "the processes took too long for their slots to be told apart"
    # Never two in one slot: consecutive slots are a minute apart, give or take the stalls.
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(MINUTE - took <= gap <= MINUTE + took for gap in gaps), gaps


def test_shift_moves_the_slots_not_taken_yet_and_nothing_else(coord):
    assert coord.reserve("k", MINUTE, 10 * MINUTE) == pytest.approx(0, abs=STALL)
    assert coord.reserve("k", MINUTE, 10 * MINUTE) == pytest.approx(MINUTE, abs=STALL)
    coord.shift("k", MINUTE / 2)  # the call in the second slot left half a minute late
    assert coord.reserve("k", MINUTE, 10 * MINUTE) == pytest.approx(2.5 * MINUTE, abs=STALL)
    coord.shift("never-reserved", MINUTE)  # no schedule to move: the next call goes at once
    assert coord.reserve("never-reserved", MINUTE, 10 * MINUTE) == pytest.approx(0, abs=STALL)
