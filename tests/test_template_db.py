"""The template the test databases are copied from (tests/template_db.py) is made again whenever
something that decides the migrated database changes, and only then."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests import template_db


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name, text in {
        "requirements-dev.txt": "django==5.2\n",
        "referrals/migrations/0001_initial.py": "# a migration\n",
        "hireops/core/auth/roles.py": "ROLES = {}\n",
        "tests/test_something.py": "def test(): pass\n",
        "bench/admin.py": "# a benchmark\n",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setattr(template_db, "ROOT", tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("changed", "makes_a_new_one"),
    [
        ("referrals/migrations/0001_initial.py", True),
        ("hireops/core/auth/roles.py", True),  # post_migrate writes the roles from it
        ("requirements-dev.txt", True),  # the libraries' migrations
        ("tests/test_something.py", False),
        ("bench/admin.py", False),
    ],
)
def test_the_template_follows_what_decides_the_migrated_database(project, changed, makes_a_new_one):
    before = template_db._fingerprint()
    assert template_db._fingerprint() == before
    (project / changed).write_text((project / changed).read_text() + "# changed\n")
    assert (template_db._fingerprint() != before) is makes_a_new_one


@pytest.mark.django_db
def test_this_process_database_has_a_template_of_this_code(django_db_modify_db_settings):
    template = django_db_modify_db_settings
    if connection.vendor == "sqlite":
        import sqlite3

        assert template.path.name == f"test-db-tpl-{template_db._fingerprint()}.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            applied = cursor.fetchall()
        copy = sqlite3.connect(template.path)
        try:
            kept = copy.execute("SELECT app, name FROM django_migrations ORDER BY app, name").fetchall()
        finally:
            copy.close()
        assert applied and kept == applied  # the template is this code's migrated database
        return
    assert template.name.endswith(f"_tpl_{template_db._fingerprint()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template.name])
        assert cursor.fetchone() == (1,)


@pytest.mark.processes
def test_a_run_whose_tests_use_no_database_leaves_the_configured_one_alone(tmp_path):
    """pytest-django makes no test database when no selected test uses one: the connection is
    then the configured database, a developer's own, which the template and the commit setting
    must not touch."""
    if connection.vendor != "postgresql":
        pytest.skip("templates are PostgreSQL's")
    import psycopg
    from psycopg import sql

    bare = f"{connection.settings_dict['NAME']}_bare"
    maintenance = template_db._maintenance(connection)
    maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(bare)))
    maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(bare)))
    try:
        params = connection.get_connection_params()
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}  # not a worker
        env["DATABASE_URL"] = f"postgres://{params['user']}@{params['host']}:{params['port']}/{bare}"
        no_database = (
            "tests/test_template_db.py::test_the_template_follows_what_decides_the_migrated_database"
        )
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", no_database],
            cwd=template_db.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout[-3000:]
        with psycopg.connect(**{**params, "dbname": bare}) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (
                0,
            )
            settings_of_bare = (
                "SELECT count(*) FROM pg_db_role_setting s"
                " JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = %s"
            )
            assert conn.execute(settings_of_bare, [bare]).fetchone() == (0,)
    finally:
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(bare)))
        maintenance.close()
