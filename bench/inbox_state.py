"""The inbox table as each measurement of an ingest benchmark starts: a chosen number of rows.

Left alone, the benchmarks that store events (``bench/longconn.py``) leave their rows behind, so
every run measures a larger table than the one before: on a 2-core machine with PostgreSQL's
default 128 MB of shared buffers the listener acknowledged about 20 % less at 730,000 rows than
on an empty table (2026-11-27: 3,300 against 4,050 events/s, 16 in flight), and three rounds of
one run read 3,730, 3,480 and 2,809. ``prepare(rows)`` puts the table in the same state before
each measurement: exactly ``rows`` seeded rows (a year of a large customer is about 1M), what
earlier measurements stored deleted, vacuumed and checkpointed, so each one starts with the same
table, the same indexes' contents and the same write-ahead log position relative to a checkpoint.

The seeded rows are marked by their ``app_id`` (``SEED_APP_ID``), which nothing reads; their event
ids are md5 digests, spread over the unique index as Feishu's ids are.
"""

import time

SEED_APP_ID = "bench-inbox-seed"


def prepare(rows: int, out=print) -> None:
    """The inbox with exactly ``rows`` seeded rows and nothing else, vacuumed, after a checkpoint."""
    from django.db import connection

    from hireops.events.models import FeishuEvent

    started = time.monotonic()
    table = connection.ops.quote_name(FeishuEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE app_id <> %s", [SEED_APP_ID])  # noqa: S608 - the model's table
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - the model's table
        (seeded,) = cursor.fetchone()
        if seeded > rows:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id DESC LIMIT %s)",  # noqa: S608
                [seeded - rows],
            )
        elif seeded < rows:
            params = {"first": seeded + 1, "last": rows, "app_id": SEED_APP_ID}
            cursor.execute(_seed_statement(params), params)
    # VACUUM and CHECKPOINT cannot run in a transaction: Django's connection is in autocommit.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("CHECKPOINT")
    out(f"inbox: {rows:,} rows before each measurement (prepared in {time.monotonic() - started:.1f} s)")


def _seed_statement(params: dict) -> str:
    from bench.seed import _filled

    given = {
        "event_id": "md5('inbox-seed-' || i::text)",
        "schema": "'2.0'",
        "event_type": "CASE WHEN mod(i, 2) = 0 THEN 'hire.referral_account.assets_update_v1' "
        "ELSE 'hire.eco_account.created_v1' END",
        "app_id": "%(app_id)s",
        "tenant_key": "'seed-tenant-' || mod(i, 1000)::text",
        "create_time": "(extract(epoch FROM received) * 1000)::bigint::text",
        "account_id": "(7100000000000000000 + i::bigint * 7919)::text",
        "payload": "jsonb_build_object('schema', '2.0', 'header', jsonb_build_object("
        "'event_id', md5('inbox-seed-' || i::text), 'tenant_key', 'seed-tenant-' || mod(i, 1000)::text))",
        "received_at": "received",
        "status": "'processed'",
        "processed_at": "received",
    }
    source = (
        "FROM (SELECT i, now() - interval '365 days' + interval '30 seconds' * i AS received "
        "FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i) AS g"
    )
    return _filled("events.FeishuEvent", given, source, params)
