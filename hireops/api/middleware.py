"""What every ``/api/v1/`` request goes through before its operation: the key, the rate limit,
``Idempotency-Key``. Placed before the session and CSRF middleware's concerns matter: an API
request carries a bearer key, never a cookie."""

from http import HTTPStatus
from typing import cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.utils import translation

from . import counting, idempotency, keys, operations, ratelimit
from .models import ApiKey
from .problems import CONTENT_TYPE, problem, too_large

ROOT = "/api/v1/"
PUBLIC = frozenset({ROOT + "openapi.json", ROOT + "docs", ROOT + "guide"})


class _SeenRequest(HttpRequest):
    """For annotations: a request once ``handle`` has set its key (None: no usable key)."""

    api_key: ApiKey | None
    api_counted: counting.Counted | None  # counted by the rate limit, before the answer


def bearer(request: HttpRequest) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class ApiMiddleware:
    def __init__(self, get_response: idempotency.GetResponse):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(ROOT):
            return self.get_response(request)
        # The API speaks English whatever the caller's language (programs read it; the stored
        # messages it shows are rendered in the active language): LocaleMiddleware, further
        # in, reads the language from these two places only.
        request.META["HTTP_ACCEPT_LANGUAGE"] = "en"
        request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
        seen = cast(_SeenRequest, request)
        with translation.override("en"):
            response = as_problem(self.handle(seen))
        if request.path in PUBLIC:  # the documentation is not a partner's request
            return response
        if seen.api_counted is not None:
            counting.settle(seen.api_counted, response.status_code)
        else:
            counting.count(seen.api_key.prefix if seen.api_key else counting.NO_KEY, response.status_code)
        return response

    def handle(self, request: _SeenRequest) -> HttpResponseBase:
        request.api_key = None
        request.api_counted = None
        token = bearer(request)
        if token is None or request.path in PUBLIC:
            return self.get_response(request)  # the operation answers 401 (its auth is the key)
        api_key = keys.authenticate(token)
        if api_key is None:
            return self.get_response(request)
        request.api_key = api_key
        allowed, limit, remaining, reset, request.api_counted = ratelimit.take(api_key.prefix)
        limit_headers = ratelimit.headers(limit, remaining, reset)
        if not allowed:
            return problem(
                429,
                f"More than {limit} requests a minute with this key; try again in {reset} s.",
                kind="rate-limited",
                headers={**limit_headers, "Retry-After": str(reset)},
            )
        route = operations.of(request)
        try:
            if route is None:  # no such operation: 404 or 405, whatever Idempotency-Key it carries
                response = self.get_response(request)
            else:
                response = idempotency.handle(request, api_key, self.get_response)
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
            response = too_large(exc)  # met by Idempotency-Key's fingerprint, reading the body first
        except MultiPartParserError as exc:
            response = problem(400, f"The multipart body is malformed: {exc}.", kind="malformed-body")
        if response.status_code == 201 and route is not None and (url := route.location(response)):
            response["Location"] = url  # here, so a replayed 201 carries it too
        for name, value in limit_headers.items():
            response[name] = value
        return response


def as_problem(response: HttpResponseBase) -> HttpResponseBase:
    """An error answered by Django rather than an operation (an unknown path, a method the
    path does not take) is a problem too."""
    if response.status_code >= 400 and not response.get("Content-Type", "").startswith(CONTENT_TYPE):
        replaced = problem(response.status_code, HTTPStatus(response.status_code).phrase)
        for name in ("Allow", "WWW-Authenticate", "Retry-After", "RateLimit", "RateLimit-Policy"):
            if name in response:
                replaced[name] = response[name]
        return replaced
    return response
