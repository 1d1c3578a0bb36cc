"""Every error the API answers is ``application/problem+json`` (RFC 9457).

``type`` is ``about:blank`` where the status says it all, else ``urn:hireops:problem:<kind>``
naming the case; ``errors`` lists the fields at fault. The kinds are declared once, below
(``declare``: name, statuses, meaning): ``Problem`` and ``problem`` refuse an undeclared one, the
OpenAPI document lists them all (``x-problem-types``, and a table in ``ProblemOut``'s
description), and tests/api/test_problem_kinds.py fails for a kind the code raises that is
not declared here, or one missing from docs/api.md's table.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse
from ninja import Schema

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:hireops:problem:"

# (field, message) pairs, each written with str(): a name and a text, or lazy translations.
FieldErrors = Sequence[tuple[object, object]]


@dataclass(frozen=True)
class Kind:
    """A problem ``type`` the API answers: what a partner's code branches on."""

    name: str
    statuses: tuple[int, ...]
    meaning: str  # for people: the document's table and docs/api.md's say the same

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.name


KINDS: dict[str, Kind] = {}


def declare(name: str, *statuses: int, meaning: str) -> Kind:
    """A new problem kind; released, a name keeps its meaning (partners' code tests it)."""
    if name in KINDS:
        raise ValueError(f"The problem kind {name!r} is declared twice.")
    if not statuses or not all(400 <= status < 600 for status in statuses):
        raise ValueError(f"The problem kind {name!r} needs its error statuses.")
    KINDS[name] = kind = Kind(name, statuses, meaning)
    return kind


# Keys, scopes and what every operation shares.
declare("unauthorized", 401, meaning="no key, or not a usable one (wrong, revoked or expired)")
declare("missing-scope", 403, meaning="the key lacks the operation's scope (`detail` names it)")
declare("not-found", 404, meaning="no such object, or one of a tenant the key is not limited to")
declare(
    "invalid-request",
    400,
    422,
    meaning="input the schema or the operation refuses: 400 in the query, 422 in the body; "
    "`errors` lists the fields",
)
declare("invalid-parameter", 400, meaning="a parameter out of its range (`limit`)")
declare("unknown-parameter", 400, meaning="a query parameter the operation does not take")
declare("invalid-cursor", 400, meaning="a cursor this API did not give")
declare(
    "repeated-parameter",
    400,
    422,
    meaning="a query parameter (400) or form field (422) sent more than once (a list's excepted)",
)
declare("malformed-body", 400, meaning="a body that is no JSON (or multipart) hireops reads")
declare(
    "unsupported-media-type",
    415,
    meaning="a body of another type than the operation takes (`Accept` says which)",
)
# Idempotency-Key and the rate limit.
declare("invalid-idempotency-key", 400, meaning="`Idempotency-Key` is not 1 to 255 printable characters")
declare("idempotency-key-reused", 422, meaning="the `Idempotency-Key` came with another request before")
declare(
    "idempotency-key-in-use",
    409,
    meaning="the first request with this `Idempotency-Key` is still running: retry a moment later",
)
declare("rate-limited", 429, meaning="past the key's requests a minute: retry after `Retry-After` seconds")
# What the services refuse, before anything is queued.
declare(
    "write-refused",
    422,
    meaning="an order's write Feishu's rules refuse (a stage id again, a time out of order, a result "
    "without a report); `errors` names the field",
)
declare("order-closed", 409, meaning="the order takes nothing more (finished or terminated)")
declare(
    "invalid-customer",
    422,
    meaning="a customer the admin's checks refuse (an identifier another customer holds); "
    "`errors` names the fields",
)
declare("invalid-catalogue", 422, meaning="a catalogue the admin's checks refuse; nothing was changed")
declare("catalogue-changed", 409, meaning="the catalogue changed while the replacement ran: send it again")
declare(
    "external-id-taken",
    409,
    meaning="a reward with this `external_id` was posted before with other values",
)
declare(
    "reward-not-deletable",
    409,
    meaning="the reward is not in Feishu, is already deleted or is being deleted",
)
# What a key may not do, whatever its scopes.
declare(
    "tenant-limited-key",
    403,
    meaning="customers are shared by every tenant: only a key for every tenant changes them",
)
declare(
    "catalogue-shared",
    403,
    meaning="the catalogue is shared by every tenant: only a key for every tenant replaces it",
)
declare(
    "money-not-authorised",
    403,
    meaning="the person who made the key may no longer move money (or nobody did: a key from the shell)",
)


class FieldError(Schema):
    field: str
    message: str


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class Problem(Exception):
    """Raise from an operation to answer with a problem; nothing it changed is kept (the
    operation's transaction rolls back with the exception)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str = "",
        errors: FieldErrors | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(detail)
        _check(status, kind)
        self.status, self.detail, self.kind = status, str(detail), kind
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        return problem(self.status, self.detail, kind=self.kind, errors=self.errors, headers=self.headers)


def problem(
    status: int,
    detail: str,
    *,
    kind: str = "",
    errors: FieldErrors | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    _check(status, kind)
    body = {
        "type": TYPE_PREFIX + kind if kind else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = [{"field": str(f), "message": str(m)} for f, m in errors]
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _check(status: int, kind: str) -> None:
    """A kind the document does not declare, or a status it does not come with, is a mistake in
    the code (the tests enumerate every kind raised): a partner would meet an answer the contract
    never named."""
    if kind and (kind not in KINDS or status not in KINDS[kind].statuses):
        raise ValueError(
            f"Problem kind {kind!r} with status {status} is not declared in hireops.api.problems."
        )


def not_found() -> Problem:
    """The same answer for an id that does not exist and one the key may not see."""
    return Problem(404, "No such object.", kind="not-found")


def too_large(exc: RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent) -> HttpResponse:
    """413 for a body past Django's limits on what it reads into memory (``DATA_UPLOAD_MAX_*``)."""
    if isinstance(exc, TooManyFieldsSent):
        detail = f"A form of at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields."
    elif isinstance(exc, TooManyFilesSent):
        detail = f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} files."
    else:
        detail = f"A body of at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes (files aside)."
    return problem(413, detail)
