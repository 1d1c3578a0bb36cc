"""The answers kept for ``Idempotency-Key``s, in SQL written once: every write with a key runs
these three statements, and the ORM spent more building them than the database running them.

``hold`` takes the key's lock for the rest of the transaction; ``read`` and ``keep`` read and
write its ``IdempotentRequest`` row (``idempotency`` says how the three make exactly once).
"""

from functools import cache
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from .models import IdempotentRequest


class Answer(NamedTuple):
    fingerprint: str
    status_code: int | None
    content_type: str
    body: bytes | None


# The advisory locks' first key, which sets them apart from every other use of advisory locks
# (a partner choosing its keys cannot reach another lock): "idem" in ASCII.
LOCKS = 0x6964656D


def hold(api_key_id: int, key: str) -> bool:
    """Take the key's lock until the transaction ends; False if another transaction has it
    (never waits). The lock's second key is a 32-bit hash of the API key's id and the key:
    two keys sharing it, both in flight at once, would at worst answer 409 for a moment.
    Without advisory locks (SQLite, development) True: the kept row's unique constraint
    decides (``keep``)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [LOCKS, f"{api_key_id}:{key}"])
        return bool(cursor.fetchone()[0])


def read(api_key_id: int, key: str) -> Answer | None:
    with connection.cursor() as cursor:
        cursor.execute(_sql()["read"], [api_key_id, key])
        row = cursor.fetchone()
    return None if row is None else Answer(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]))


def keep(api_key_id: int, key: str, answer: Answer, *, unanswered: bool) -> bool:
    """Keep ``answer`` for the key: on its row left unanswered (``unanswered``), else on a new
    one. False if the key had an answer already (another request kept it meanwhile)."""
    values = [answer.status_code, answer.content_type, answer.body]
    with connection.cursor() as cursor:
        if unanswered:
            cursor.execute(_sql()["answer"], [*values, api_key_id, key])
        else:
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            cursor.execute(_sql()["insert"], [api_key_id, key, answer.fingerprint, *values, now])
        return bool(cursor.rowcount == 1)


@cache
def _sql() -> dict[str, str]:
    meta = IdempotentRequest._meta
    q = connection.ops.quote_name
    table = q(meta.db_table)
    columns = {field.name: q(field.column) for field in meta.concrete_fields if field.column}
    api_key, key, fingerprint, status, content_type, body, created = (
        columns[name]
        for name in ("api_key", "key", "fingerprint", "status_code", "content_type", "body", "created_at")
    )
    return {
        # Names from the model's meta, quoted; the values are parameters.
        "read": f"SELECT {fingerprint}, {status}, {content_type}, {body} FROM {table}"  # noqa: S608
        f" WHERE {api_key} = %s AND {key} = %s",
        "insert": f"INSERT INTO {table} ({api_key}, {key}, {fingerprint}, {status}, {content_type}, {body},"  # noqa: S608
        f" {created}) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT ({api_key}, {key}) DO NOTHING",
        "answer": f"UPDATE {table} SET {status} = %s, {content_type} = %s, {body} = %s"  # noqa: S608
        f" WHERE {api_key} = %s AND {key} = %s AND {status} IS NULL",
    }
