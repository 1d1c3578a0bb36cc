"""PostgreSQL binds the parameters and prepares what a connection runs again and again
(config/settings/django.py): a statement is parsed and planned once a connection, not at every
call. ``DATABASE_PREPARE_THRESHOLD`` sets after how many runs, or ``off`` for a transaction
pooler that cannot carry prepared statements."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from bindings.models import VendorCustomer
from config.settings.django import prepare_threshold
from tests.test_settings import bare_shell, run

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)

OPTIONS = """
import json
import django
django.setup()
from django.db import connections
print(json.dumps(connections["default"].settings_dict["OPTIONS"]))
"""


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@on_postgresql
@pytest.mark.django_db
def test_a_statement_run_five_times_on_a_connection_is_prepared_from_its_next_run():
    name = "prepared-" + connection.settings_dict["NAME"]

    def asked():
        return VendorCustomer.objects.filter(name=name)  # a new query set: run again, not cached

    for _ in range(5):
        assert list(asked()) == []
    assert not [s for s in _prepared() if '"bindings_vendorcustomer"."name" = $1' in s]
    VendorCustomer.objects.create(name=name)
    assert [c.name for c in asked()] == [name]  # the sixth run: prepared, and the same answer

    prepared = [s for s in _prepared() if '"bindings_vendorcustomer"."name" = $1' in s]
    assert len(prepared) == 1  # the value is a parameter, not written into the statement
    assert name not in prepared[0]
    assert [c.name for c in asked()] == [name]  # run again from the prepared statement


@on_postgresql
@pytest.mark.processes
def test_the_deployment_binds_on_the_server_and_can_turn_preparing_off(tmp_path):
    db = connection.settings_dict  # the suite's own database server
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    assert _options(tmp_path, DATABASE_URL=url) == {"server_side_binding": True, "prepare_threshold": 5}
    off = _options(tmp_path, DATABASE_URL=url, DATABASE_PREPARE_THRESHOLD="off")
    assert off == {"server_side_binding": True, "prepare_threshold": None}


def _options(tmp_path, **env) -> dict:
    """The database options a process started with ``env`` on the product's settings reads."""
    done = run(["-c", OPTIONS], bare_shell(tmp_path, **env))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("value", "threshold"), [("5", 5), ("0", 0), ("1", 1), ("off", None), (" OFF ", None), ("-3", 0)]
)
def test_the_threshold_is_a_number_of_runs_or_off(value, threshold):
    assert prepare_threshold(value) == threshold


@pytest.mark.parametrize("value", ["", "five", "5.5", "none"])
def test_a_threshold_that_is_neither_says_what_it_takes(value):
    with pytest.raises(ImproperlyConfigured, match=r"a number of runs .* or 'off'"):
        prepare_threshold(value)
