"""Transactional tests end with an empty database in a few milliseconds instead of seconds.

Django ends each transactional test with ``flush``: a TRUNCATE of every table (84 here, each
given new files on disk) and then ``post_migrate`` for every app, which recreates the content
types, permissions, roles and beat schedules. On PostgreSQL that took 3 s a test, about 40 % of
the suite's time. The end state is the same every time, so it is computed once: the first
transactional test of a process ends with Django's own flush, whose result (the few tables
``post_migrate`` fills) is kept as COPY data; every later one deletes every table's rows and
copies that result back in one transaction (FKs are deferred to its commit). Beat's schedules
carry the time they were written, which the health checks read ("schedules running late"):
they are copied back as written now, as ``post_migrate`` would write them.

Sequences are not reset, as Django's flush does not reset them either; tests that ask for
``reset_sequences``, ``serialized_rollback`` or ``available_apps`` get Django's flush unchanged,
as does any database other than PostgreSQL.
"""

from django.db import connections, transaction
from django.test.testcases import TransactionTestCase

_django_teardown = TransactionTestCase._fixture_teardown
_after_flush: dict[str, tuple[list[str], dict[str, bytes]]] = {}  # alias → (tables, their rows)


# What post_migrate would stamp with the time it ran (django-celery-beat's auto_now fields).
_WRITTEN_NOW = (
    "UPDATE django_celery_beat_periodictask SET date_changed = now()",
    "UPDATE django_celery_beat_periodictasks SET last_update = now()",
)


def _snapshot(connection) -> tuple[list[str], dict[str, bytes]]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    rows = {}
    with connection.cursor() as cursor:
        for table in tables:
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {name})")  # noqa: S608 (Django's own table names)
            if cursor.fetchone()[0]:
                with cursor.copy(f"COPY {name} TO STDOUT") as copy:
                    rows[table] = b"".join(bytes(block) for block in copy)
    return tables, rows


def _reset(connection, tables: list[str], rows: dict[str, bytes]) -> None:
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(";".join(f"DELETE FROM {quote(table)}" for table in tables))  # noqa: S608
        for table, data in rows.items():
            with cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                copy.write(data)
        for statement in _WRITTEN_NOW:
            cursor.execute(statement)


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
        _reset(connections[alias], *_after_flush[alias])
    return None


TransactionTestCase._fixture_teardown = _fixture_teardown
