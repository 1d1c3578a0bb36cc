"""An inbox that refuses a kind of write, as a database refusing it would: a trigger on the
events' table (PostgreSQL or SQLite) that fails every INSERT or UPDATE."""

from hireops.events.models import FeishuEvent
from tests.triggers import refusing_rows

TABLE = FeishuEvent._meta.db_table


def refusing(statement: str):
    """Every ``statement`` ("INSERT" or "UPDATE") on the inbox fails within the block."""
    return refusing_rows(f"refuse_{statement.lower()}", f"BEFORE {statement} ON {TABLE}")
