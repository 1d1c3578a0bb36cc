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


def test_reserve_spaces_callers_by_interval(coord):
    waits = [coord.reserve("k", 0.1, 5) for _ in range(5)]
    assert waits[0] == pytest.approx(0, abs=0.02)
    for i, w in enumerate(waits):
        assert w == pytest.approx(0.1 * i, abs=0.03)


def test_reserve_refuses_without_taking_a_slot_beyond_max_wait(coord):
    coord.reserve("k", 1.0, 5)
    with pytest.raises(ReservationTooFar) as exc:
        coord.reserve("k", 1.0, 0.5)
    assert exc.value.wait == pytest.approx(1.0, abs=0.05)
    assert coord.reserve("k", 1.0, 5) == pytest.approx(1.0, abs=0.05)  # the refused call took nothing


def test_push_back_delays_the_next_slot_for_everyone(coord):
    coord.push_back("k", 2.0)
    assert coord.reserve("k", 0.1, 5) == pytest.approx(2.0, abs=0.05)
    coord.push_back("k", 0.5)  # never moves the schedule earlier
    assert coord.reserve("k", 0.1, 5) == pytest.approx(2.1, abs=0.05)


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
    with coord.lock("L", timeout=5):
        started = time.monotonic()
        with pytest.raises(LockTimeout), coord.lock("L", timeout=5, wait=0.2):
            pass
        assert time.monotonic() - started < 1.0
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


_SEND_TIMES = """
import sys, time
from hireops.feishu.coordination import get_coordinator
c = get_coordinator(sys.argv[1])
if len(sys.argv) > 2:
    c._prefix = sys.argv[2]
for _ in range(4):
    time.sleep(c.reserve("shared", 0.05, 10))
    print(time.time(), flush=True)
"""


@pytest.mark.processes
def test_reserve_is_shared_between_processes(coord_url):
    args = [coord_url] + ([f"test:{uuid.uuid4().hex}:"] if coord_url.startswith("redis") else [])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SEND_TIMES, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    times = sorted(float(line) for p in procs for line in p.communicate(timeout=30)[0].split())
    assert all(p.returncode == 0 for p in procs)
    assert len(times) == 12
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 12 sends on one 50 ms schedule: never two at once (a little scheduling jitter allowed).
    assert min(gaps) > 0.035, gaps
    assert times[-1] - times[0] >= 11 * 0.05 - 0.03


def test_shift_moves_the_slots_not_taken_yet_and_nothing_else(coord):
    assert coord.reserve("k", 0.1, 5) == pytest.approx(0, abs=0.02)
    assert coord.reserve("k", 0.1, 5) == pytest.approx(0.1, abs=0.03)
    coord.shift("k", 0.05)  # the call in the second slot left 50 ms late
    assert coord.reserve("k", 0.1, 5) == pytest.approx(0.25, abs=0.03)
    coord.shift("never-reserved", 1.0)  # no schedule to move: the next call goes at once
    assert coord.reserve("never-reserved", 0.1, 5) == pytest.approx(0, abs=0.02)
