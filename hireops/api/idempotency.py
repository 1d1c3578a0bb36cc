"""``Idempotency-Key`` (IETF httpapi draft; Stripe's practice) for every write.

The same key with the same request (method, path, query and an equal body, JSON key order
aside) answers the first answer again with ``Idempotent-Replayed: true`` and does nothing
more; with another request, 422; while the first still runs, 409. Answers below 500 are
kept (``API_IDEMPOTENCY_HOURS``, at least 24); a 5xx is not, so the retry runs again.

Exactly once, even if a process dies: the key's row is committed first, then locked for the
write, and the write and its kept answer commit in one transaction. A request that finds the
row locked answers 409; one that finds it unlocked and unanswered knows the first died with
its transaction rolled back, and runs the write itself.
"""

import contextlib
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

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
        with contextlib.suppress(ValueError, UnicodeDecodeError):  # else compared as sent
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
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


def _replay(row: IdempotentRequest) -> "HttpResponse":
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
        row, _created = IdempotentRequest.objects.get_or_create(
            api_key=api_key, key=key, defaults={"fingerprint": print_}
        )
    except IntegrityError:  # two first requests at once: the other one inserted it
        row = IdempotentRequest.objects.get(api_key=api_key, key=key)
    if row.fingerprint != print_:
        return problem(
            422,
            f"This {HEADER} was used with another request.",
            kind="idempotency-key-reused",
        )
    try:
        with transaction.atomic():
            try:
                row = IdempotentRequest.objects.select_for_update(nowait=True).get(pk=row.pk)
            except DatabaseError:
                return problem(
                    409, f"A request with this {HEADER} is still running.", kind="idempotency-key-in-use"
                )
            if row.status_code is not None:
                return _replay(row)
            response = run_write(request, get_response)
            if response.status_code >= 500 or getattr(response, "streaming", False):
                return response  # not kept: the retry runs the write again
            row.status_code = response.status_code
            row.content_type = response.get("Content-Type", "")
            row.body = cast("HttpResponse", response).content  # not streaming
            row.save(update_fields=["status_code", "content_type", "body"])
            return response
    except IdempotentRequest.DoesNotExist:  # purged between the two reads: run as a new key
        return handle(request, api_key, get_response)


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
