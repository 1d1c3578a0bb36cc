"""Row triggers a test puts on a table for the length of a block: the database refusing a write,
another writer acting inside the write's own transaction, a writer held at a point.

On PostgreSQL the trigger runs a plpgsql function of the given statements; on SQLite, the
trigger's own statements. A trigger given no SQLite statements is PostgreSQL's only: the test
says so (``pytest.mark.skipif``) before it gets here.
"""

import contextlib
from collections.abc import Callable

from django.db import OperationalError, connection, transaction


@contextlib.contextmanager
def row_trigger(
    name: str,
    on: str,
    *,
    postgresql: str,
    sqlite: str | None = None,
    when: str = "",
    release_held: Callable[[], None] | None = None,
):
    """``on``: "BEFORE INSERT ON <table>" (or AFTER, UPDATE, DELETE); ``when``: a condition on
    NEW or OLD, which both databases read alike; ``postgresql``: the function's statements
    (ending in a RETURN unless they raise); ``sqlite``: the trigger's statements;
    ``release_held``: for a trigger that holds writers, ends them before it is dropped."""
    table = on.split()[-1]
    condition = f"WHEN ({when}) " if when else ""
    postgres = connection.vendor == "postgresql"
    if not postgres and sqlite is None:
        raise RuntimeError(f"the trigger {name} is PostgreSQL's only: skip the test on {connection.vendor}")
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {postgresql} END $$ LANGUAGE plpgsql"
            )
            cursor.execute(f"CREATE TRIGGER {name} {on} FOR EACH ROW {condition}EXECUTE FUNCTION {name}()")
        else:
            cursor.execute(f"CREATE TRIGGER {name} {on} {condition}BEGIN {sqlite} END")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if postgres:
                _drop_when_free(cursor, f"DROP TRIGGER {name} ON {table}", release_held)
                cursor.execute(f"DROP FUNCTION {name}()")
            else:
                cursor.execute(f"DROP TRIGGER {name}")


def _drop_when_free(cursor, drop: str, release_held: Callable[[], None] | None) -> None:
    """Dropping a trigger waits for every writer of its table. A writer the trigger holds
    waits on the test in turn: a deadlock, which PostgreSQL breaks by failing one of the
    two, perhaps the test. So the held are released and the drop tries for a moment at a
    time, shorter than PostgreSQL's deadlock_timeout (1 s), until no writer arriving late
    (a statement a killed process had already sent) stands in its way."""
    if release_held is None:
        cursor.execute(drop)
        return
    for _ in range(100):
        release_held()
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
                cursor.execute(drop)
            return
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
    raise AssertionError(f"{drop!r}: a writer still holds the table after 100 tries")


def refusing_rows(name: str, on: str, *, when: str = ""):
    """Every row of ``on`` (that meets ``when``) fails, as a database refusing it would."""
    return row_trigger(
        name,
        on,
        when=when,
        postgresql=f"RAISE EXCEPTION '{name}';",
        sqlite=f"SELECT RAISE(ABORT, '{name}');",
    )
