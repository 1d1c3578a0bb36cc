"""Every error the API answers is ``application/problem+json`` (RFC 9457).

``type`` is ``about:blank`` where the status says it all, else a ``urn:hireops:problem:…``
naming the case (documented in docs/api.md); ``errors`` lists the fields at fault.
"""

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse
from ninja import Schema

CONTENT_TYPE = "application/problem+json"

# (field, message) pairs, each written with str(): a name and a text, or lazy translations.
FieldErrors = Sequence[tuple[object, object]]


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
    body = {
        "type": f"urn:hireops:problem:{kind}" if kind else "about:blank",
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
