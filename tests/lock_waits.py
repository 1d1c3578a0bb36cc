"""For tests that interleave two PostgreSQL sessions: wait until the other one (in a thread)
waits on a lock this one holds, and fail if it finished without waiting."""

import threading
from collections.abc import Callable

from django.db import connection


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
