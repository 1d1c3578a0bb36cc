"""Cross-process coordination: single-flight locks and a shared rate-limit schedule.

Web, Celery workers and beat are separate processes, so a per-process lock or token bucket
would let N processes each fetch a token or each spend the whole quota. Two backends share
one API:

* ``RedisCoordinator``: for several machines. Locks are ``SET NX PX`` with a random token
  and a token-checked release (a Lua script), so an expired lock that someone else now holds
  is never deleted by its previous owner. Slot reservation runs in Lua with Redis ``TIME`` as
  the clock, so hosts with skewed clocks still agree.
* ``FileCoordinator``: the embedded default for one machine. ``fcntl.flock`` on files in a
  directory; the kernel drops a flock when its process dies, so no lock outlives a crash.

``reserve`` is GCRA / "virtual scheduling": keep the theoretical arrival time ``tat`` of the
next free slot; a caller takes ``slot = max(now, tat)``, sets ``tat = slot + interval`` and
sleeps ``slot - now``. Reservation is atomic, sleeping happens outside the lock, so callers
queue in FIFO order without holding anything while they wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

_POLL = 0.02
_Result = TypeVar("_Result")


class LockTimeout(TimeoutError):
    """The lock stayed busy for the whole wait."""


class ReservationTooFar(Exception):
    """The next free slot is further away than the caller is willing to wait."""

    def __init__(self, wait: float):
        self.wait = wait
        super().__init__(f"next rate-limit slot in {wait:.2f}s")


class Coordinator:
    def lock(self, name: str, timeout: float, wait: float | None = None) -> AbstractContextManager[None]:
        """Context manager: hold ``name`` exclusively; ``timeout`` bounds how long a crashed
        holder can block others (Redis TTL) and, by default, how long we wait for it."""
        raise NotImplementedError

    def reserve(self, key: str, interval_s: float, max_wait_s: float) -> float:
        """Take the next slot; return the seconds to sleep before sending."""
        raise NotImplementedError

    def push_back(self, key: str, delay_s: float) -> None:
        """Nobody may take a slot for ``key`` during the next ``delay_s`` seconds."""
        raise NotImplementedError

    def shift(self, key: str, delay_s: float) -> None:
        """Move every slot of ``key`` not taken yet ``delay_s`` seconds later."""
        raise NotImplementedError


# --- Redis --------------------------------------------------------------------------------

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

# Times in microseconds (fits a Lua double exactly). Returns the wait in µs, or -(wait+1)
# without reserving when the wait exceeds the maximum.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat)
local wait = slot - now
if wait > tonumber(ARGV[2]) then return -(wait + 1) end
local new_tat = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return wait
"""

_PUSH_BACK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > tat then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.ceil((until_ - now) / 1000) + 1000)
end
return 0
"""


_SHIFT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > 0 then
  local new_tat = tat + tonumber(ARGV[1])
  local ttl = math.max(0, math.ceil((new_tat - now) / 1000)) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
end
return 0
"""


class RedisCoordinator(Coordinator):
    def __init__(self, redis_url: str, prefix: str = "hireops:feishu:"):
        import redis  # imported here so the file backend works without a Redis client

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix
        self._release = self._redis.register_script(_RELEASE)
        self._reserve = self._redis.register_script(_RESERVE)
        self._push_back = self._redis.register_script(_PUSH_BACK)
        self._shift = self._redis.register_script(_SHIFT)

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float, wait: float | None = None) -> Iterator[None]:
        key = f"{self._prefix}lock:{name}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + (timeout if wait is None else wait)
        while not self._redis.set(key, token, nx=True, px=max(1, int(timeout * 1000))):
            if time.monotonic() >= deadline:
                raise LockTimeout(name)
            time.sleep(_POLL)
        try:
            yield
        finally:
            self._release(keys=[key], args=[token])

    def reserve(self, key: str, interval_s: float, max_wait_s: float) -> float:
        res = int(
            self._reserve(
                keys=[f"{self._prefix}rl:{key}"], args=[int(interval_s * 1e6), int(max_wait_s * 1e6)]
            )
        )
        if res < 0:
            raise ReservationTooFar((-res - 1) / 1e6)
        return res / 1e6

    def push_back(self, key: str, delay_s: float) -> None:
        self._push_back(keys=[f"{self._prefix}rl:{key}"], args=[int(delay_s * 1e6)])

    def shift(self, key: str, delay_s: float) -> None:
        self._shift(keys=[f"{self._prefix}rl:{key}"], args=[int(delay_s * 1e6)])


# --- Files --------------------------------------------------------------------------------

_TAT = struct.Struct("<d")


def _filename(name: str) -> str:
    # Readable prefix for people looking at the directory, hash for uniqueness.
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)[:60]}-{digest}"


class FileCoordinator(Coordinator):
    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _flock(self, path: Path, wait: float | None) -> Iterator[int]:
        # One open() per call: flock belongs to the open file description, so threads of one
        # process exclude each other as well as other processes.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if wait is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + wait
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise LockTimeout(path.name) from None
                        time.sleep(_POLL)
            yield fd
        finally:
            os.close(fd)  # closing releases the flock

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float, wait: float | None = None) -> Iterator[None]:
        with self._flock(self.directory / f"lock-{_filename(name)}", timeout if wait is None else wait):
            yield

    def _update(self, key: str, fn: Callable[[float, float], tuple[float, _Result]]) -> _Result:
        # The state-file lock is held only for a read-modify-write of 8 bytes, so block on it.
        with self._flock(self.directory / f"rl-{_filename(key)}", None) as fd:
            raw = os.pread(fd, _TAT.size, 0)
            tat = _TAT.unpack(raw)[0] if len(raw) == _TAT.size else 0.0
            # Wall clock: the only clock all processes on one machine share by value.
            new_tat, result = fn(time.time(), tat)
            if new_tat != tat:
                os.pwrite(fd, _TAT.pack(new_tat), 0)
            return result

    def reserve(self, key: str, interval_s: float, max_wait_s: float) -> float:
        def step(now: float, tat: float) -> tuple[float, float]:
            slot = max(now, tat)
            if slot - now > max_wait_s:
                raise ReservationTooFar(slot - now)
            return slot + interval_s, slot - now

        return self._update(key, step)

    def push_back(self, key: str, delay_s: float) -> None:
        self._update(key, lambda now, tat: (max(tat, now + delay_s), None))

    def shift(self, key: str, delay_s: float) -> None:
        self._update(key, lambda now, tat: (tat + delay_s if tat else tat, None))


def get_coordinator(url: str) -> Coordinator:
    """``redis://…`` / ``rediss://…`` / ``unix://…`` → Redis; ``file://<dir>`` → files."""
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return RedisCoordinator(url)
    if scheme == "file":
        path = unquote(url[len("file://") :])
        if not path:
            raise ValueError("file:// coordination URL needs a directory")
        return FileCoordinator(path)
    raise ValueError(f"unsupported FEISHU_COORDINATION_URL scheme: {scheme!r}")
