"""The sandbox's settable clock: real time plus an offset that tests move forward.

Whatever Feishu decides or stamps with its own clock follows it: token and app_ticket
expiry, ``modify_time`` of balance events, withdrawal ``trans_time``, event ``create_time`` and
the window a custom bot's signed ``timestamp`` must fall in (Feishu checks it against its
own clock), so a test jumps two hours ahead instead of sleeping and the timestamps
agree with the expiries. Transport stays on real time: rate-limit windows (ratelimit.py),
push retry delays, the signature timestamps of event pushes (the receiver checks them
against its own clock), log ids and the request log.
"""

import math
import threading
import time


class Clock:
    def __init__(self, real=time.time):
        self._real = real
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, like ``time.time()``, plus the offset."""
        with self._lock:
            return self._real() + self._offset

    def ms(self) -> int:
        return int(self.time() * 1000)

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds) -> float:
        """Move forward ``seconds``; returns the new offset.

        CHOICE: forward only. Feishu's clock never runs back, and going back would revive
        expired tokens and break the strictly increasing ``modify_time``.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError("advance takes a number of seconds")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("the clock only moves forward: advance by 0 or more seconds")
        with self._lock:
            self._offset += float(seconds)
            return self._offset

    def reset(self) -> None:
        """Back to real time."""
        with self._lock:
            self._offset = 0.0

    def as_dict(self) -> dict:
        with self._lock:
            return {"now": self._real() + self._offset, "offset": self._offset}
