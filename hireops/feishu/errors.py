"""Typed Feishu errors: every failure carries Feishu's code, msg, HTTP status and X-Tt-Logid.

The class decides the two questions every caller asks (docs/feishu.md §11):
``retryable``: can the same call succeed later without a person changing anything? Only
5xx answers, Feishu's "internal error" codes, timeouts, lost connections and rate limits
are; a refusal, a configuration or authentication problem and an exhausted monthly quota
are not. ``maybe_applied``: could Feishu have acted although we saw no answer? Only then
is a blind repeat of a non-idempotent call risky.
``str()`` never contains tokens, secrets or request bodies: only the endpoint name and
what Feishu said.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict, TypeVar, Unpack

# §1.3. Fixed by fetching a new token (the client does that once, then the error is final).
TOKEN_REFRESH_CODES = frozenset({99991661, 99991663, 99991664, 99991665, 99991671})
# A person must change something: app disabled, wrong secret, unknown app, missing scope,
# IP not allowed (§1.3, §11).
CONFIG_CODES = frozenset({10014, 10015, 99991543, 99991672, 99991401})
# 10012/10013: "failed to get app / tenant token"; the store-app flow resends the ticket and
# retries by itself (auth.py), so what reaches a caller is final.
TOKEN_FETCH_CODES = frozenset({10012, 10013})
AUTH_CODES = TOKEN_REFRESH_CODES | CONFIG_CODES | TOKEN_FETCH_CODES
# 230020: a message API's own limit (5 messages a second to one person, §18), answered with
# HTTP 400: the same message succeeds a moment later.
RATE_LIMIT_CODES = frozenset({99991400, 1000004, 1000005, 230020})
QUOTA_EXHAUSTED = 99991403  # monthly call quota; comes with HTTP 429 like the rate limit (§11)
# Hire's "system error": with HTTP 500 a server error, with HTTP 400 (documented for some eco
# APIs as "parameter error or system exception") a refusal (§11).
SYSTEM_ERROR = 1002001
# The common error page's "internal error, retry later" codes. Their HTTP status is
# UNCONFIRMED; retrying them loses nothing (§11).
INTERNAL_CODES = frozenset({1500, 1663, 1668, 2200, 5000})

_MAX_MSG = 200


class Context(TypedDict, total=False):
    """Where an error comes from: the keyword arguments every error takes besides its own."""

    http_status: int | None
    log_id: str | None
    endpoint: str | None


_Error = TypeVar("_Error", bound="FeishuError")


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

    # Picklable with keyword args (Celery results, multiprocessing).
    def __reduce__(self) -> tuple[Callable[..., FeishuError], tuple[type[FeishuError], dict[str, Any]]]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[_Error], state: dict[str, Any]) -> _Error:
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    Exception.__init__(obj, str(obj))
    return obj


class FeishuAuthError(FeishuError):
    """A token could not be obtained or was rejected, or the app is misconfigured. Final,
    unless the token flow says it is transient (a lock still held elsewhere, an app_ticket
    that has not arrived yet)."""

    def __init__(self, code: int | None, msg: str, *, retryable: bool = False, **kw: Unpack[Context]):
        super().__init__(code, msg, **kw)
        self._retryable = retryable

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self._retryable


class FeishuRateLimited(FeishuError):
    """Feishu answered 429 / 99991400, or our own limiter's queue is longer than allowed."""

    retryable = True

    def __init__(
        self, code: int | None, msg: str, *, reset_after: float | None = None, **kw: Unpack[Context]
    ):
        self.reset_after = reset_after
        super().__init__(code, msg, **kw)


class FeishuQuotaExhausted(FeishuError):
    """99991403: the app's monthly API call quota is used up (or the client refuses locally
    while the stop is in force, see quota.py). Final until the quota renews."""

    def __init__(self, code: int | None, msg: str, *, until: float | None = None, **kw: Unpack[Context]):
        self.until = until  # Unix time the stop ends, when known
        super().__init__(code, msg, **kw)


class FeishuServerError(FeishuError):
    """5xx, 1002001 with 5xx, or an "internal error" code: Feishu may or may not have applied
    the request."""

    retryable = True
    maybe_applied = True


class FeishuTransportError(FeishuError):
    """Timeout or connection failure: no Feishu answer at all (code is None)."""

    retryable = True

    def __init__(self, msg: str, *, maybe_applied: bool = True, **kw: Unpack[Context]):
        self.maybe_applied = maybe_applied  # False only when the connection never opened
        super().__init__(None, msg, **kw)


class TenantUnavailable(FeishuError):
    """Not sent: the call's tenant cannot be called (a store app's tenant that stopped or
    uninstalled the app, or a call that names no tenant). Final for this row; other tenants'
    calls go on. ``reason`` says why, for staff (a translatable message)."""

    def __init__(self, reason: str, *, tenant_key: str | None = None, **kw: Unpack[Context]):
        self.reason = reason
        self.tenant_key = tenant_key
        super().__init__(None, str(reason), **kw)


class FeishuBusinessError(FeishuError):
    """Any other non-zero code (e.g. 1002551 user does not exist, 1002001 with HTTP 400):
    Feishu refused the request; retrying will not help."""


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
    kw: Context = {"http_status": http_status, "log_id": log_id, "endpoint": endpoint}
    if code == QUOTA_EXHAUSTED:  # before the 429 test: it shares the rate limit's status
        return FeishuQuotaExhausted(code, msg, **kw)
    if http_status == 429 or code in RATE_LIMIT_CODES:
        return FeishuRateLimited(code, msg, reset_after=reset_after, **kw)
    if code in AUTH_CODES:
        return FeishuAuthError(code, msg, **kw)
    if http_status >= 500 or code in INTERNAL_CODES:
        return FeishuServerError(code, msg, **kw)
    return FeishuBusinessError(code, msg, **kw)
