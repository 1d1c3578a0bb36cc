"""Transactional tests end with an empty database in a few milliseconds instead of seconds.

Django ends each transactional test with ``flush``: a TRUNCATE (on SQLite a DELETE) of every
table and then ``post_migrate`` for every app, which recreates the content types, permissions,
roles and beat schedules. That took 3 s a test on PostgreSQL, about 40 % of the suite's time,
and 0.37 s on SQLite, a quarter of the quick loop's. The end state is the same every time, so it
is computed once: the first transactional test of a process ends with Django's own flush, whose
result (the few tables ``post_migrate`` fills) is kept; every later one empties the tables the
test wrote into and puts back the rows of a kept table it changed, in one transaction (FKs are
deferred to its commit). Whether a kept table changed is asked in one statement: most tests
touch none, and deleting and writing back its rows was most of the time a reset took. Beat's
schedules carry the time they were written, which the health checks read ("schedules running
late"): they are stamped as written now after every test, as ``post_migrate`` would write them.

Where the kept rows are kept is the database's own: PostgreSQL's as COPY data in this process,
compared through a digest of each table; SQLite's in tables of the test database beside them
(``fast_flush_kept_<n>_<table>``: Django closes the connection after each transactional test, which
a temporary table would not outlive), compared row for row with ``EXCEPT``.

Sequences are not reset, as Django's flush does not reset them either; tests that ask for
``reset_sequences``, ``serialized_rollback`` or ``available_apps`` get Django's flush unchanged,
as does any other database.
"""

import itertools
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.test.testcases import TransactionTestCase
from django.utils import timezone

_django_teardown = TransactionTestCase._fixture_teardown


@dataclass
class _AfterFlush:
    """A database's state after Django's flush, and what its kept tables hold now."""

    tables: list[str]  # every table of the project's models
    kept: list[str]  # the tables post_migrate fills
    rows: dict[str, bytes] = field(default_factory=dict)  # PostgreSQL: each kept table as COPY data
    held: dict[str, tuple] = field(default_factory=dict)  # PostgreSQL: a digest of each kept table
    # SQLite: its copies' names (a test of this module keeps a state of its own beside the
    # process's, and must not overwrite the process's copies).
    number: int = field(default_factory=itertools.count().__next__)


_after_flush: dict[str, _AfterFlush] = {}  # database alias → its state after the flush

# What post_migrate would stamp with the time it ran (django-celery-beat's auto_now fields).
_WRITTEN_NOW = (
    ("django_celery_beat_periodictask", "date_changed"),
    ("django_celery_beat_periodictasks", "last_update"),
)


def stamp_as_written_now(cursor) -> None:
    """Beat's rows as ``post_migrate`` leaves them: written now."""
    now = cursor.db.ops.adapt_datetimefield_value(timezone.now())
    for table, column in _WRITTEN_NOW:
        cursor.execute(f"UPDATE {table} SET {column} = %s", [now])  # noqa: S608


def _filled(cursor, connection, tables) -> list[str]:
    """The tables with at least one row, asked in one statement."""
    quote = connection.ops.quote_name
    cursor.execute(
        " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})" for table in tables),  # noqa: S608
        tables,
    )
    return [table for (table,) in cursor.fetchall()]


def _snapshot(connection) -> _AfterFlush:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        state = _AfterFlush(tables, _filled(cursor, connection, tables))
        _KEEPERS[connection.vendor].keep(cursor, state)
    return state


class _PostgresKeeper:
    """The kept rows as COPY data in this process; a change seen through each table's digest."""

    @staticmethod
    def keep(cursor, state: _AfterFlush) -> None:
        quote = cursor.db.ops.quote_name
        for table in state.kept:
            with cursor.copy(f"COPY {quote(table)} TO STDOUT") as copy:
                state.rows[table] = b"".join(bytes(block) for block in copy)
        state.held = _PostgresKeeper.digests(cursor, state.kept)

    @staticmethod
    def digests(cursor, tables) -> dict[str, tuple]:
        """Each table's row count and the sum of its rows' hashes: any insert, update or delete
        changes it (a collision would need a change whose hashes cancel out exactly)."""
        quote = cursor.db.ops.quote_name
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s, count(*), coalesce(sum(hashtext(t::text)), 0) FROM {quote(table)} t"  # noqa: S608
                for table in tables
            ),
            list(tables),
        )
        return {table: (count, total) for table, count, total in cursor.fetchall()}

    @staticmethod
    def defer_constraints(cursor) -> None:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    @staticmethod
    def empty(cursor, tables: list[str]) -> None:
        quote = cursor.db.ops.quote_name
        cursor.execute(";".join(f"DELETE FROM {quote(table)}" for table in tables))  # noqa: S608

    @staticmethod
    def changed(cursor, state: _AfterFlush) -> list[str]:
        now = _PostgresKeeper.digests(cursor, state.kept)
        return [table for table in state.kept if now[table] != state.held[table]]

    @staticmethod
    def write_back(cursor, state: _AfterFlush, tables: list[str]) -> None:
        for table in tables:
            with cursor.copy(f"COPY {cursor.db.ops.quote_name(table)} FROM STDIN") as copy:
                copy.write(state.rows[table])

    @staticmethod
    def stamped(cursor, state: _AfterFlush) -> None:
        state.held = _PostgresKeeper.digests(cursor, state.kept)  # as stamped now


class _SqliteKeeper:
    """The kept rows in tables of the same database; a change seen by comparing both ways with
    ``EXCEPT``."""

    @staticmethod
    def copy_of(table: str, state: _AfterFlush) -> str:
        return f'"fast_flush_kept_{state.number}_{table}"'

    @staticmethod
    def keep(cursor, state: _AfterFlush) -> None:
        quote, copy_of = cursor.db.ops.quote_name, _SqliteKeeper.copy_of
        for table in state.kept:
            cursor.execute(f"DROP TABLE IF EXISTS {copy_of(table, state)}")
            cursor.execute(f"CREATE TABLE {copy_of(table, state)} AS SELECT * FROM {quote(table)}")  # noqa: S608

    @staticmethod
    def defer_constraints(cursor) -> None:
        cursor.execute("PRAGMA defer_foreign_keys = ON")  # until this transaction's commit

    @staticmethod
    def empty(cursor, tables: list[str]) -> None:
        quote = cursor.db.ops.quote_name
        for table in tables:  # one statement an execute, SQLite's rule
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608

    @staticmethod
    def changed(cursor, state: _AfterFlush) -> list[str]:
        quote, copy_of = cursor.db.ops.quote_name, _SqliteKeeper.copy_of
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s WHERE EXISTS (SELECT * FROM {quote(t)} EXCEPT SELECT * FROM {copy_of(t, state)})"  # noqa: S608
                f" OR EXISTS (SELECT * FROM {copy_of(t, state)} EXCEPT SELECT * FROM {quote(t)})"
                for t in state.kept
            ),
            state.kept,
        )
        return [table for (table,) in cursor.fetchall()]

    @staticmethod
    def write_back(cursor, state: _AfterFlush, tables: list[str]) -> None:
        quote, copy_of = cursor.db.ops.quote_name, _SqliteKeeper.copy_of
        for table in tables:
            cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {copy_of(table, state)}")  # noqa: S608

    @staticmethod
    def stamped(cursor, state: _AfterFlush) -> None:
        quote, copy_of = cursor.db.ops.quote_name, _SqliteKeeper.copy_of
        for table in {table for table, _ in _WRITTEN_NOW} & set(state.kept):
            cursor.execute(f"DELETE FROM {copy_of(table, state)}")  # noqa: S608
            cursor.execute(f"INSERT INTO {copy_of(table, state)} SELECT * FROM {quote(table)}")  # noqa: S608


_KEEPERS = {"postgresql": _PostgresKeeper, "sqlite": _SqliteKeeper}


def _reset(connection, state: _AfterFlush) -> None:
    """Back to the state after the flush: every table emptied but the kept ones, and a kept
    table the test changed given its rows back."""
    keeper = _KEEPERS[connection.vendor]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        keeper.defer_constraints(cursor)
        changed = keeper.changed(cursor, state)
        # Every other table is emptied: a DELETE of an empty table costs less than asking.
        keeper.empty(cursor, [t for t in state.tables if t not in state.kept or t in changed])
        keeper.write_back(cursor, state, changed)
        stamp_as_written_now(cursor)
        keeper.stamped(cursor, state)


def _fixture_teardown(self) -> None:
    if self.reset_sequences or self.serialized_rollback or self.available_apps is not None:
        return _django_teardown(self)
    aliases = list(self._databases_names(include_mirrors=False))
    if any(connections[alias].vendor not in _KEEPERS for alias in aliases):
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
