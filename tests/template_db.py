"""Each test process's database is copied from a migrated template instead of migrated anew.

Migrating an empty database took 15–20 s of CPU, and every xdist worker did it at once at the
start of a run. The first process to need a database now migrates its own as before and then
copies it, as PostgreSQL copies databases (``CREATE DATABASE … TEMPLATE``), into a template
named after everything that decides the migrated state (``_fingerprint``). The others, and
later runs while those files are unchanged, create theirs from that template in a second or
so; Django then migrates as always, finding nothing to apply.

One PostgreSQL advisory lock orders it: while one process builds the template, the others
wait for it instead of migrating beside it. A template of other files is dropped when a new
one is made.

SQLite (``./dev test`` as written, and the quick loop) does the same with files: the first
process copies its migrated database file beside the processes' var directories, under a lock
file, and the others copy that file into place; Django then keeps it (``keepdb``) and migrates,
finding nothing to apply. Migrating cost each process 15–20 s of CPU at every run there too.
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
import sqlite3
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


def _without_files_of(database: Path) -> None:
    """``database`` and its write-ahead log gone: a log left by another run would be replayed
    into the copy that takes the file's place."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


class _SqliteTemplate:
    """The template as a file (``_Template`` for SQLite): ``<var>/test-db-tpl-<fingerprint>``,
    in the folder that holds every xdist process's own var directory."""

    def __init__(self, connection):
        from django.conf import settings

        from tests.worker_env import WORKER

        self.settings_dict = connection.settings_dict
        self.configured_name = self.settings_dict["NAME"]
        folder = Path(settings.VAR_DIR).parent if WORKER else Path(settings.VAR_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / f"test-db-tpl-{_fingerprint()}.sqlite3"
        self.lock = open(folder / "test-db-tpl.lock", "w")  # noqa: SIM115  (held until close)
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.locked = True
        self.ready = self.path.exists()
        if self.ready:
            test_database = Path(self.settings_dict["TEST"]["NAME"])
            test_database.parent.mkdir(parents=True, exist_ok=True)
            _without_files_of(test_database)
            shutil.copyfile(self.path, test_database)
            self.release()

    def test_database_in_use(self) -> bool:
        return self.settings_dict["NAME"] != self.configured_name

    def release(self) -> None:
        if self.locked:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            self.locked = False

    def make_from(self, test_database: str) -> None:
        """A consistent copy of the migrated file (its write-ahead log included: SQLite's
        backup), put in place at once so that no process copies half of it."""
        for stale in self.folder.glob("test-db-tpl-*.sqlite3"):
            if stale != self.path:
                stale.unlink(missing_ok=True)
        part = self.path.with_suffix(".part")
        _without_files_of(part)
        source, copy = sqlite3.connect(test_database), sqlite3.connect(part)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        os.replace(part, self.path)

    def close(self) -> None:
        self.release()
        self.lock.close()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """pytest-django's (the xdist worker's suffix on the test database's name), and then the
    template to create it from, once there is one (``_Template``)."""
    from django.db import connections

    vendor = connections["default"].vendor
    if vendor not in ("postgresql", "sqlite"):
        yield None
        return
    if vendor == "sqlite":
        sqlite_template = _SqliteTemplate(connections["default"])
        try:
            yield sqlite_template
        finally:
            sqlite_template.close()
        return
    template = _Template(connections["default"])
    if template.ready:
        template.settings_dict.setdefault("TEST", {})["TEMPLATE"] = template.name
    try:
        yield template
    finally:
        template.close()


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_modify_db_settings) -> bool:
    """pytest-django's (``--reuse-db``), and SQLite's copy of the template: Django would delete
    the file before migrating an empty one in its place."""
    copied = isinstance(django_db_modify_db_settings, _SqliteTemplate) and django_db_modify_db_settings.ready
    return bool(request.config.getvalue("reuse_db")) or copied


def keep_as_template(template: _Template | _SqliteTemplate, django_db_blocker) -> None:
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
