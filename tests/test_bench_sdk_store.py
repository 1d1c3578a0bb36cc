"""bench/longconn.py measures the listener against the SDK's client whose handler commits each
event before returning (``bench/sdk_ws_client.py --store``): the comparison holds only if that
handler has committed when it returns, stores a resent event once, and raises when it cannot
store (the SDK then answers 500, and Feishu delivers again)."""

from importlib.util import find_spec

import psycopg
import pytest
from django.db import connection

from bench.sdk_ws_client import STORE_TABLE_SQL, committing

pytestmark = [
    # Imported by the tests themselves: 11,000 modules, not for every process that collects this.
    pytest.mark.skipif(find_spec("lark_oapi") is None, reason="the official SDK is not installed"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the bench stores in PostgreSQL"),
    pytest.mark.django_db(transaction=True),  # the handler commits on a connection of its own
]


def app_ticket(event_id: str):
    """The event as the SDK hands it to the handler (schema 1.0, as the benchmark pushes)."""
    from lark_oapi.event.custom import CustomizedEvent

    return CustomizedEvent(
        {"uuid": event_id, "type": "event_callback", "event": {"type": "app_ticket", "app_ticket": "t"}}
    )


@pytest.fixture
def own_connection():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with connection.cursor() as cursor:
        cursor.execute(STORE_TABLE_SQL)
    conn = psycopg.connect(**params, autocommit=True)
    yield conn
    conn.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_sdk_event")


def stored() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id, event_type FROM bench_sdk_event ORDER BY event_id")
        return cursor.fetchall()


def test_the_handler_has_committed_when_it_returns_and_stores_a_resent_event_once(own_connection):
    import lark_oapi as lark

    handle = committing(own_connection, lark.JSON.marshal)
    handle(app_ticket("evt-1"))
    assert stored() == [("evt-1", "app_ticket")]  # seen from another connection: committed
    handle(app_ticket("evt-1"))
    handle(app_ticket("evt-2"))
    assert stored() == [("evt-1", "app_ticket"), ("evt-2", "app_ticket")]


def test_the_handler_raises_when_it_cannot_store(own_connection):
    import lark_oapi as lark

    handle = committing(own_connection, lark.JSON.marshal)
    own_connection.close()
    with pytest.raises(psycopg.OperationalError):
        handle(app_ticket("evt-3"))
    assert stored() == []
