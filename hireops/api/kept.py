"""The answers kept for ``Idempotency-Key``s, in SQL written once: every write with a key runs
these statements, and the ORM spent more building them than the database running them.

``hold_and_read`` takes the key's lock for the rest of the transaction and reads its
``IdempotentRequest`` row, in one statement; ``keep`` writes the row (``idempotency`` says how
they make exactly once).
"""

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

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


def hold_and_read(api_key_id: int, key: str) -> tuple[bool, Answer | None]:
    """Take the key's lock until the transaction ends (False if another transaction has it:
    never waits) and read the answer kept for the key, in one statement.

    The lock's second key is a 32-bit hash of the API key's id and the key: two keys sharing
    it, both in flight at once, would at worst answer 409 for a moment. The statement's
    snapshot is taken just before the lock: an answer that the lock's previous holder
    committed in between is not read here, and the key's unique constraint catches it when
    this request keeps its own (``keep``). Without advisory locks (SQLite, development) the
    lock is always taken and that constraint alone decides."""
    if connection.vendor != "postgresql":
        return True, _read(api_key_id, key)
    with connection.cursor() as cursor:
        cursor.execute(_sql()["hold_and_read"], [LOCKS, f"{api_key_id}:{key}", api_key_id, key])
        held, *answer = cursor.fetchone()
    return bool(held), _answer(answer)


def _read(api_key_id: int, key: str) -> Answer | None:
    with connection.cursor() as cursor:
        cursor.execute(_sql()["read"], [api_key_id, key])
        row = cursor.fetchone()
    return None if row is None else _answer(row)


def _answer(row: Sequence[Any]) -> Answer | None:
    """The row's columns (fingerprint, status, content type, body; a null fingerprint: no row)."""
    if row[0] is None:
        return None
    return Answer(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]))


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
    answer = f"{fingerprint}, {status}, {content_type}, {body}"
    return {
        # Names from the model's meta, quoted; the values are parameters.
        "read": f"SELECT {answer} FROM {table} WHERE {api_key} = %s AND {key} = %s",  # noqa: S608
        # One row always: the lock's outcome, and the key's row or nulls.
        "hold_and_read": f"SELECT pg_try_advisory_xact_lock(%s, hashtext(%s)), {answer}"  # noqa: S608
        f" FROM (SELECT 1) AS one LEFT JOIN {table} ON {api_key} = %s AND {key} = %s",
        "insert": f"INSERT INTO {table} ({api_key}, {key}, {fingerprint}, {status}, {content_type}, {body},"  # noqa: S608
        f" {created}) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT ({api_key}, {key}) DO NOTHING",
        "answer": f"UPDATE {table} SET {status} = %s, {content_type} = %s, {body} = %s"  # noqa: S608
        f" WHERE {api_key} = %s AND {key} = %s AND {status} IS NULL",
    }
