"""``Idempotency-Key`` (IETF httpapi draft; Stripe's practice) for every write.

The same key with the same request (method, path, query and an equal body, JSON key order
aside) answers the first answer again with ``Idempotent-Replayed: true`` and does nothing
more; with another request, 422; while the first still runs, 409. Answers below 500 are
kept (``API_IDEMPOTENCY_HOURS``, at least 24); a 5xx is not, so the retry runs again.

Exactly once, even if a process dies, in one transaction: the request first takes a lock on
its key (a PostgreSQL advisory lock, ``pg_try_advisory_xact_lock``, in a space of its own, on a
hash of the API key's id and the key) and reads the key's kept answer, in one statement. A kept
answer is final: it is replayed whoever holds the lock. Otherwise another request holding the
lock answers 409 at once, without waiting; the holder runs the write and keeps its answer, and
the write and the answer commit together. A process that dies takes its transaction, its lock
and everything it wrote with it, so the retry finds nothing kept and runs the write. The key's
unique constraint is the last word: a kept answer the read did not see (one the lock's previous
holder committed after the statement's snapshot, or any on a database without advisory locks,
SQLite in development) rolls the write back and answers what was kept.

A row without an answer (``status_code`` null) is one an earlier version committed before its
write and whose process died: its write is run again and its answer kept on it.
"""

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from . import kept, reading
from .models import ApiKey, IdempotentRequest
from .problems import problem

if TYPE_CHECKING:
    from django.http import HttpResponse

# The rest of the middleware chain, then the operation.
GetResponse = Callable[[HttpRequest], HttpResponseBase]

HEADER = "Idempotency-Key"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_LENGTH = 255


def fingerprint(request: HttpRequest) -> str:
    h = hashlib.sha256()
    # A request Django's handler made always has its method (the stub allows None).
    h.update(request.method.encode() + b" " + request.path.encode() + b"?")  # type: ignore[union-attr]
    h.update("&".join(sorted(f"{k}={v}" for k, vs in request.GET.lists() for v in vs)).encode())
    body = request.body
    content_type = request.content_type or ""
    if content_type == "application/json":
        # Read as the operation reads it (hireops.api.reading: never nested past its depth, so
        # never a RecursionError here); a body it refuses is compared as sent.
        with contextlib.suppress(reading.Malformed):
            body = json.dumps(reading.loads(body), sort_keys=True, separators=(",", ":")).encode()
    elif content_type == "multipart/form-data":
        # The boundary changes from one send to the next: compare the fields and files.
        parts = sorted(f"{k}={v}" for k, vs in request.POST.lists() for v in vs)
        for name, files in sorted(request.FILES.lists()):
            for f in files:
                digest = hashlib.sha256()
                for chunk in f.chunks():
                    digest.update(chunk)
                f.seek(0)
                parts.append(f"{name}:{f.name}:{digest.hexdigest()}")
        body = "\n".join(parts).encode()
    h.update(b"\n" + content_type.encode() + b"\n" + body)
    return h.hexdigest()


def _replay(row: kept.Answer) -> "HttpResponse":
    from django.http import HttpResponse

    response = HttpResponse(bytes(row.body or b""), status=row.status_code, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def run_write(request: HttpRequest, get_response: GetResponse) -> HttpResponseBase:
    """The operation in a transaction that keeps nothing of a refused write (4xx or 5xx)."""
    with transaction.atomic():
        response = get_response(request)
        if response.status_code >= 400:
            transaction.set_rollback(True)
    return response


def _reused() -> "HttpResponse":
    return problem(422, f"This {HEADER} was used with another request.", kind="idempotency-key-reused")


class _KeptMeanwhile(Exception):
    """Another request kept an answer for the key while this one wrote: undo this write."""


def handle(request: HttpRequest, api_key: ApiKey, get_response: GetResponse) -> HttpResponseBase:
    if request.method not in WRITES:
        return get_response(request)
    key = request.headers.get(HEADER)
    if key is None:
        return run_write(request, get_response)
    if not key or len(key) > MAX_LENGTH or not key.isprintable():
        return problem(
            400,
            f"{HEADER} is 1 to {MAX_LENGTH} printable characters.",
            kind="invalid-idempotency-key",
            errors=[(HEADER, "invalid")],
        )
    print_ = fingerprint(request)
    try:
        with transaction.atomic():
            return _once(request, api_key.pk, key, print_, get_response)
    except _KeptMeanwhile:
        return handle(request, api_key, get_response)  # answers what the other one kept


def _once(
    request: HttpRequest, api_key_id: int, key: str, print_: str, get_response: GetResponse
) -> HttpResponseBase:
    """Inside the request's transaction: the lock, the kept answer, or the write and its answer."""
    held, row = kept.hold_and_read(api_key_id, key)
    if row is not None and row.status_code is not None:
        return _replay(row) if row.fingerprint == print_ else _reused()
    if not held:
        return problem(409, f"A request with this {HEADER} is still running.", kind="idempotency-key-in-use")
    if row is not None and row.fingerprint != print_:
        return _reused()
    response = run_write(request, get_response)
    if response.status_code >= 500 or getattr(response, "streaming", False):
        return response  # not kept: the retry runs the write again
    answer = kept.Answer(
        print_, response.status_code, response.get("Content-Type", ""), cast("HttpResponse", response).content
    )
    if not kept.keep(api_key_id, key, answer, unanswered=row is not None):
        raise _KeptMeanwhile
    return response


def forget_old(batch: int = 5000) -> int:
    """Delete the answers kept longer than API_IDEMPOTENCY_HOURS (a schedule, hourly), in
    batches so no statement holds many rows; how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    gone = 0
    while True:
        pks = list(
            IdempotentRequest.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not pks:
            return gone
        gone += IdempotentRequest.objects.filter(pk__in=pks).delete()[0]
