"""The peer of bench/longconn.py: the official SDK's long-connection client, unmodified.

    APP_ID=… APP_SECRET=… DOMAIN=http://127.0.0.1:PORT .venv/bin/python bench/sdk_ws_client.py
    … DATABASE_URL=postgres://… .venv/bin/python bench/sdk_ws_client.py --store

``lark_oapi.ws.Client`` from the installed lark-oapi package, constructed as its README does,
with a handler for the event the benchmark pushes (``app_ticket``, schema 1.0). The SDK
acknowledges each event when the handler returns (and with 500, which Feishu resends, when it
raises), so its handler is where a client decides what an acknowledgement promises:

- by default it does nothing: the SDK acknowledges an event it has only parsed, storing nothing;
- ``--store``: it commits the event to PostgreSQL before it returns, which is what a team on
  the SDK must write to lose nothing: a plain psycopg insert of the event (its id unique, so a
  resent event is stored once) on a connection in autocommit, one commit an event. The SDK
  calls its handler on its event loop, one event at a time.

Its ``start()`` blocks for good on a module-level loop, so it runs in its own process until
killed. Credentials come from the environment, not argv (``ps`` shows argv).
"""

import os
import sys

# The table, created and emptied by bench/longconn.py before each of this client's measurements.
STORE_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_sdk_event (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
)"""
INSERT = (
    "INSERT INTO bench_sdk_event (event_id, event_type, payload) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
)


def do_nothing(data) -> None:
    pass


def committing(conn, as_json):
    """A handler that returns only once the event is committed (autocommit: the statement
    commits by itself); a failure raises, and the SDK answers 500."""

    def commit_event(data) -> None:
        event_id = data.header.event_id if data.header else data.uuid
        event_type = data.header.event_type if data.header else data.event.get("type", "")
        conn.execute(INSERT, (event_id, event_type, as_json(data)))

    return commit_event


def main() -> None:
    import lark_oapi as lark  # here: bench/longconn.py imports this module for its table

    handle = do_nothing
    if "--store" in sys.argv[1:]:
        import psycopg

        handle = committing(psycopg.connect(os.environ["DATABASE_URL"], autocommit=True), lark.JSON.marshal)
    handler = (
        lark.EventDispatcherHandler.builder("", "").register_p1_customized_event("app_ticket", handle).build()
    )
    client = lark.ws.Client(
        os.environ["APP_ID"],
        os.environ["APP_SECRET"],
        event_handler=handler,
        domain=os.environ["DOMAIN"],
        log_level=lark.LogLevel.WARNING,  # as the listener runs in the benchmark
    )
    client.start()


if __name__ == "__main__":
    main()
