"""Transactional tests end with an empty database in a few milliseconds instead of seconds.

Django ends each transactional test with ``flush``: a TRUNCATE of every table (84 here, each
given new files on disk) and then ``post_migrate`` for every app, which recreates the content
types, permissions, roles and beat schedules. On PostgreSQL that took 3 s a test, about 40 % of
the suite's time. The end state is the same every time, so it is computed once: the first
transactional test of a process ends with Django's own flush, whose result (the few tables
``post_migrate`` fills) is kept as COPY data; every later one empties the tables the test
wrote into and copies back the rows of a kept table it changed, in one transaction (FKs are
deferred to its commit). Whether a kept table changed is asked in one statement: most tests
touch none, and deleting and copying back its rows was most of the time a reset took. Beat's
schedules carry the time they were written, which the health checks read ("schedules running
late"): they are stamped as written now after every test, as ``post_migrate`` would write them.

Sequences are not reset, as Django's flush does not reset them either; tests that ask for
``reset_sequences``, ``serialized_rollback`` or ``available_apps`` get Django's flush unchanged,
as does any database other than PostgreSQL.
"""

from dataclasses import dataclass, field

from django.db import connections, transaction
from django.test.testcases import TransactionTestCase

_django_teardown = TransactionTestCase._fixture_teardown


@dataclass
class _AfterFlush:
    """A database's state after Django's flush, and what its kept tables hold now."""

    tables: list[str]  # every table of the project's models
    rows: dict[str, bytes]  # the tables post_migrate fills → their rows, as COPY data
    held: dict[str, tuple] = field(default_factory=dict)  # those tables → a digest of their rows


_after_flush: dict[str, _AfterFlush] = {}  # database alias → its state after the flush

# What post_migrate would stamp with the time it ran (django-celery-beat's auto_now fields).
_WRITTEN_NOW = (
    "UPDATE django_celery_beat_periodictask SET date_changed = now()",
    "UPDATE django_celery_beat_periodictasks SET last_update = now()",
)


def stamp_as_written_now(cursor) -> None:
    """Beat's rows as ``post_migrate`` leaves them: written now."""
    for statement in _WRITTEN_NOW:
        cursor.execute(statement)


def _snapshot(connection) -> _AfterFlush:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    rows = {}
    with connection.cursor() as cursor:
        for table in _filled(cursor, connection, tables):
            with cursor.copy(f"COPY {connection.ops.quote_name(table)} TO STDOUT") as copy:
                rows[table] = b"".join(bytes(block) for block in copy)
        state = _AfterFlush(tables, rows)
        state.held = _digests(cursor, connection, rows)
    return state


def _filled(cursor, connection, tables) -> list[str]:
    """The tables with at least one row, asked in one statement."""
    quote = connection.ops.quote_name
    cursor.execute(
        " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})" for table in tables),  # noqa: S608
        tables,
    )
    return [table for (table,) in cursor.fetchall()]


def _digests(cursor, connection, tables) -> dict[str, tuple]:
    """Each table's row count and the sum of its rows' hashes: any insert, update or delete
    changes it (a collision would need a change whose hashes cancel out exactly)."""
    quote = connection.ops.quote_name
    cursor.execute(
        " UNION ALL ".join(
            f"SELECT %s, count(*), coalesce(sum(hashtext(t::text)), 0) FROM {quote(table)} t"  # noqa: S608
            for table in tables
        ),
        list(tables),
    )
    return {table: (count, total) for table, count, total in cursor.fetchall()}


def _reset(connection, state: _AfterFlush) -> None:
    """Back to the state after the flush: every table emptied but the kept ones, and a kept
    table the test changed given its rows back."""
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        changed = [
            t for t, digest in _digests(cursor, connection, state.rows).items() if digest != state.held[t]
        ]
        # Every other table is emptied: a DELETE of an empty table costs less than asking.
        stale = [t for t in state.tables if t not in state.rows or t in changed]
        cursor.execute(";".join(f"DELETE FROM {quote(table)}" for table in stale))  # noqa: S608
        for table in changed:
            with cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                copy.write(state.rows[table])
        stamp_as_written_now(cursor)
        held = _digests(cursor, connection, state.rows)  # as stamped now
    state.held = held


def _fixture_teardown(self) -> None:
    if self.reset_sequences or self.serialized_rollback or self.available_apps is not None:
        return _django_teardown(self)
    aliases = list(self._databases_names(include_mirrors=False))
    if any(connections[alias].vendor != "postgresql" for alias in aliases):
        return _django_teardown(self)
    if any(alias not in _after_flush for alias in aliases):
        _django_teardown(self)
        for alias in aliases:
            _after_flush[alias] = _snapshot(connections[alias])
        return None
    for alias in aliases:
        _reset(connections[alias], _after_flush[alias])
    return None


TransactionTestCase._fixture_teardown = _fixture_teardown
