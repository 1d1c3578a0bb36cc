"""The template the test databases are copied from (tests/template_db.py) is made again whenever
something that decides the migrated database changes, and only then."""

import pytest
from django.db import connection

from tests import template_db


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name, text in {
        "requirements-dev.txt": "django==5.2\n",
        "referrals/migrations/0001_initial.py": "# a migration\n",
        "hireops/core/roles.py": "ROLES = {}\n",
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
        ("hireops/core/roles.py", True),  # post_migrate writes the roles from it
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
    if connection.vendor != "postgresql":
        pytest.skip("templates are PostgreSQL's")
    template = django_db_modify_db_settings
    assert template.name.endswith(f"_tpl_{template_db._fingerprint()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template.name])
        assert cursor.fetchone() == (1,)
