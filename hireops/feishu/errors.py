"""Typed Feishu errors: every failure carries Feishu's code, msg, HTTP status and X-Tt-Logid.

Tasks look at two properties: ``retryable`` (can the same call succeed later without a
person changing anything?) and ``maybe_applied`` (could Feishu have acted on the request
although we saw no answer? Only then is a blind repeat of a non-idempotent call risky).
``str()`` never contains tokens, secrets or request bodies: only the endpoint name and
what Feishu said.
"""

from __future__ import annotations

# feishu-api.md §1.3. The first group is fixed by fetching a new token; the second is not
# (app disabled, wrong secret, unknown app) and needs a person.
TOKEN_REFRESH_CODES = frozenset({99991661, 99991663, 99991664, 99991665, 99991671})
TOKEN_CONFIG_CODES = frozenset({10014, 10015, 99991543})
# 10012/10013: "failed to get app / tenant token"; for store apps 10012 means the
# app_ticket is stale and a resend fixes it, so both count as transient.
TOKEN_FETCH_CODES = frozenset({10012, 10013})
AUTH_CODES = TOKEN_REFRESH_CODES | TOKEN_CONFIG_CODES | TOKEN_FETCH_CODES
RATE_LIMIT_CODES = frozenset({99991400, 1000004, 1000005})
SERVER_CODES = frozenset({1002001})  # Hire's "system error", documented with HTTP 500

_MAX_MSG = 200


class FeishuError(Exception):
    retryable = False
    maybe_applied = False

    def __init__(
        self,
        code: int | None,
        msg: str,
        *,
        http_status: int | None = None,
        log_id: str | None = None,
        endpoint: str | None = None,
    ):
        self.code = code
        self.msg = (msg or "")[:_MAX_MSG]
        self.http_status = http_status
        self.log_id = log_id
        self.endpoint = endpoint
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"Feishu {self.endpoint or 'call'} failed: {self.msg or 'no message'}"]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.log_id:
            parts.append(f"log_id={self.log_id}")
        return " ".join(parts)

    def __reduce__(self):  # picklable with keyword args (Celery results, multiprocessing)
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    Exception.__init__(obj, str(obj))
    return obj


class FeishuAuthError(FeishuError):
    """Token could not be obtained or was rejected."""

    def __init__(self, code, msg, *, retryable: bool | None = None, **kw):
        super().__init__(code, msg, **kw)
        self._retryable = retryable

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        if self._retryable is not None:
            return self._retryable
        return self.code not in TOKEN_CONFIG_CODES


class FeishuRateLimited(FeishuError):
    """Feishu answered 429 / 99991400, or our own limiter's queue is longer than allowed."""

    retryable = True

    def __init__(self, code, msg, *, reset_after: float | None = None, **kw):
        self.reset_after = reset_after
        super().__init__(code, msg, **kw)


class FeishuServerError(FeishuError):
    """5xx or 1002001: Feishu may or may not have applied the request."""

    retryable = True
    maybe_applied = True


class FeishuTransportError(FeishuError):
    """Timeout or connection failure: no Feishu answer at all (code is None)."""

    retryable = True

    def __init__(self, msg, *, maybe_applied: bool = True, **kw):
        self.maybe_applied = maybe_applied  # False only when the connection never opened
        super().__init__(None, msg, **kw)


class FeishuBusinessError(FeishuError):
    """Any other non-zero code (e.g. 1002551 user does not exist): retrying will not help."""


def error_from_response(
    http_status: int,
    code: int | None,
    msg: str,
    *,
    log_id: str | None = None,
    endpoint: str | None = None,
    reset_after: float | None = None,
) -> FeishuError:
    """Map one non-successful answer (non-zero code or non-2xx status) to its typed error."""
    kw = {"http_status": http_status, "log_id": log_id, "endpoint": endpoint}
    if http_status == 429 or code in RATE_LIMIT_CODES:
        return FeishuRateLimited(code, msg, reset_after=reset_after, **kw)
    if code in AUTH_CODES:
        return FeishuAuthError(code, msg, **kw)
    if code in SERVER_CODES or http_status >= 500:
        return FeishuServerError(code, msg, **kw)
    return FeishuBusinessError(code, msg, **kw)
