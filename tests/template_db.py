"""Each test process's database is copied from a migrated template instead of migrated anew.

Migrating an empty database took 15–20 s of CPU, and every xdist worker did it at once at the
start of a run. The first process to need a database now migrates its own as before and then
copies it, as PostgreSQL copies databases (``CREATE DATABASE … TEMPLATE``), into a template
named after everything that decides the migrated state (``_fingerprint``). The others, and
later runs while those files are unchanged, create theirs from that template in a second or
so; Django then migrates as always, finding nothing to apply.

One PostgreSQL advisory lock orders it: while one process builds the template, the others
wait for it instead of migrating beside it. A template of other files is dropped when a new
one is made. Any other database than PostgreSQL migrates as before.
"""

import contextlib
import hashlib
from pathlib import Path

import pytest

from tests.fast_flush import stamp_as_written_now

ROOT = Path(__file__).resolve().parent.parent
_LOCK = 0x686972656F7073  # pg_advisory_lock's key: "hireops" in ASCII
_NOT_PRODUCT = {".venv", "tests", "bench", "var", "test-artifacts", "docs", "locale", "node_modules"}


def _fingerprint() -> str:
    """Of every file that decides the migrated database: the migrations, the locked libraries
    (their own migrations) and the product's code, whose ``post_migrate`` receivers write rows
    that a later migrate would only add to (a role keeps a permission the code took away)."""
    digest = hashlib.sha256()
    folders = [d for d in ROOT.iterdir() if d.is_dir() and d.name not in _NOT_PRODUCT and d.name[0] != "."]
    code = sorted(path for folder in folders for path in folder.rglob("*.py"))
    for path in [*code, ROOT / "requirements-dev.txt"]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _maintenance(connection):
    """A connection to the server's ``postgres`` database, outside Django's connections, with
    the parameters Django connects with (host, user, OPTIONS…)."""
    import psycopg

    params = {**connection.get_connection_params(), "dbname": "postgres"}
    return psycopg.connect(**params, autocommit=True)


def _exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


class _Template:
    def __init__(self, connection):
        self.settings_dict = connection.settings_dict
        self.configured_name = self.settings_dict["NAME"]  # the developer's, not the test one
        self.name = f"{self.configured_name}_tpl_{_fingerprint()}"
        self.conn = _maintenance(connection)
        self.conn.execute("SELECT pg_advisory_lock(%s)", [_LOCK])
        self.locked = True
        self.ready = _exists(self.conn, self.name)
        if self.ready:
            self.release()

    def test_database_in_use(self) -> bool:
        """Whether pytest-django made a test database: it makes none when no selected test uses
        one, and the connection is then still the configured database, never to be touched."""
        return self.settings_dict["NAME"] != self.configured_name

    def release(self) -> None:
        if self.locked:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", [_LOCK])
            self.locked = False

    def make_from(self, test_database: str) -> None:
        """Copy the freshly migrated ``test_database`` (nobody may be connected to it)."""
        import psycopg
        from psycopg import sql

        stale = self.conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            [f"{self.settings_dict['NAME']}_tpl_%", self.name],
        ).fetchall()
        for (name,) in stale:
            # Another run may still copy from it: that one is left for a later run to drop.
            with contextlib.suppress(psycopg.Error):
                self.conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        self.conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(self.name), sql.Identifier(test_database)
            )
        )

    def close(self) -> None:
        self.release()
        self.conn.close()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """pytest-django's (the xdist worker's suffix on the test database's name), and then the
    template to create it from, once there is one (``_Template``)."""
    from django.db import connections

    if connections["default"].vendor != "postgresql":
        yield None
        return
    template = _Template(connections["default"])
    if template.ready:
        template.settings_dict.setdefault("TEST", {})["TEMPLATE"] = template.name
    try:
        yield template
    finally:
        template.close()


def keep_as_template(template: _Template, django_db_blocker) -> None:
    """Right after the test database was migrated, before anything else connects to it (and
    only when there is one: ``django_db_setup`` in tests/conftest.py asks first): if there was
    no template, it becomes the template.
    A copy gets beat's schedules stamped as written now, as the migration that wrote them
    would have: the health checks read that time ("schedules running late"), and the
    template's may be hours old."""
    from django.db import connection, connections

    if template.ready:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            stamp_as_written_now(cursor)
        return

    with django_db_blocker.unblock():
        for conn in connections.all():
            conn.close()
        template.make_from(connections["default"].settings_dict["NAME"])
    template.release()
