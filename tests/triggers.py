"""Row triggers a test puts on a table for the length of a block: the database refusing a write,
another writer acting inside the write's own transaction, a writer held at a point.

On PostgreSQL the trigger runs a plpgsql function of the given statements; on SQLite, the
trigger's own statements. A trigger given no SQLite statements is PostgreSQL's only: the test
says so (``pytest.mark.skipif``) before it gets here.
"""

import contextlib

from django.db import connection


@contextlib.contextmanager
def row_trigger(name: str, on: str, *, postgresql: str, sqlite: str | None = None, when: str = ""):
    """``on``: "BEFORE INSERT ON <table>" (or AFTER, UPDATE, DELETE); ``when``: a condition on
    NEW or OLD, which both databases read alike; ``postgresql``: the function's statements
    (ending in a RETURN unless they raise); ``sqlite``: the trigger's statements."""
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
                cursor.execute(f"DROP TRIGGER {name} ON {table}")
                cursor.execute(f"DROP FUNCTION {name}()")
            else:
                cursor.execute(f"DROP TRIGGER {name}")


def refusing_rows(name: str, on: str, *, when: str = ""):
    """Every row of ``on`` (that meets ``when``) fails, as a database refusing it would."""
    return row_trigger(
        name,
        on,
        when=when,
        postgresql=f"RAISE EXCEPTION '{name}';",
        sqlite=f"SELECT RAISE(ABORT, '{name}');",
    )
