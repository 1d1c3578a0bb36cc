"""What a handler raises for an event it cannot apply when the failure must also show elsewhere.

Any exception fails the event (its single argument, a ``Message``, is what the event log
shows), and everything the handler wrote is rolled back with it. ``EventRefused`` adds
``record``: run after that rollback, in the transaction that marks the event failed, to show
the failure where staff look for it (the account the event is about, say).
"""

from collections.abc import Callable


class EventRefused(Exception):
    def __init__(self, message, record: Callable[[], None] | None = None):
        super().__init__(message)
        self.record = record
