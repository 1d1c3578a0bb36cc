"""An inbox that refuses a kind of write, as a database refusing it would: a trigger on the
events' table (PostgreSQL or SQLite) that fails every INSERT or UPDATE."""

import contextlib

from django.db import connection

from hireops.events.models import FeishuEvent

TABLE = FeishuEvent._meta.db_table


def refuse(statement: str) -> None:
    """Every ``statement`` ("INSERT" or "UPDATE") on the inbox fails from now on."""
    name = f"refuse_{statement.lower()}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                f"RAISE EXCEPTION 'inbox refuses {statement}'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {statement} ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            fail = "SELECT RAISE(ABORT, 'refused')"
            cursor.execute(f"CREATE TRIGGER {name} BEFORE {statement} ON {TABLE} BEGIN {fail}; END")


def accept(statement: str) -> None:
    name = f"refuse_{statement.lower()}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER {name} ON {TABLE}")
            cursor.execute(f"DROP FUNCTION {name}()")
        else:
            cursor.execute(f"DROP TRIGGER {name}")


@contextlib.contextmanager
def refusing(statement: str):
    refuse(statement)
    try:
        yield
    finally:
        accept(statement)
