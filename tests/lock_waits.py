"""For tests that interleave two PostgreSQL sessions: the other one's work in a thread
(``AnotherSession``), and a wait until it waits on a lock this one holds, failing if it
finished without waiting."""

import threading
from collections.abc import Callable

from django.db import connection, connections


def until_another_waits(finished: threading.Event, what: Callable[[], str], seconds: float = 60.0) -> None:
    """Returns once another session of this database waits on a lock; fails at once if
    ``finished`` is set first (it did not wait: ``what()`` says what it did) or after ``seconds``."""
    with connection.cursor() as cursor:
        for _ in range(int(seconds / 0.01)):
            assert not finished.is_set(), f"it did not wait for the lock: {what()}"
            # Read afresh: inside a transaction, pg_stat_activity keeps its first answer.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.01)
    raise AssertionError("it never waited for the lock")


class AnotherSession:
    """Work done in a thread of its own, so on a database connection of its own: what it
    returned or raised is ``finished()``."""

    def __init__(self, work: Callable[[], object]):
        self.done = threading.Event()
        self.outcome: object = None
        self.thread = threading.Thread(target=self._run, args=(work,))

    def _run(self, work):
        try:
            self.outcome = work()
        except Exception as exc:  # the outcome the test asserts (a refusal), or a failure shown
            self.outcome = exc
        finally:
            connections.close_all()
            self.done.set()

    def start(self) -> None:
        self.thread.start()

    def start_and_wait_for_its_lock(self) -> None:
        self.start()
        until_another_waits(self.done, lambda: repr(self.outcome))

    def finished(self) -> object:
        self.thread.join(30)
        assert self.done.is_set()
        return self.outcome
