"""FeishuClient: the one place that sends HTTP to Feishu.

Per call: tenant token (shared cache) → rate-limit slot (shared schedule) → send with a
timeout → typed error for any non-zero ``code`` or non-2xx status. Retry policy:

* token rejected (99991661/3/4/5/71): drop the cached token, retry once with a new one;
* 429 / 99991400: wait ``x-ogw-ratelimit-reset`` (capped) and retry, bounded; always
  safe because Feishu refused the call before acting; the wait is pushed into the shared
  limiter so every process backs off, not just this one;
* 5xx, timeouts, dropped connections: raised at once, never repeated here. The task that
  made the call retries it with backoff (hireops.outbound.retry), and those tries are the whole
  budget: a call that fails the same way every time reaches Feishu at most
  ``retry.ATTEMPTS`` (6) times. Repeating here as well multiplied it (4 × 6 = 24 calls per
  row). Whether Feishu may have acted travels on the error (``maybe_applied``), so the
  next try asks or reuses its idempotency key instead of repeating blindly.
* 99991403, the monthly call quota used up: never retried; every process stops calling
  for this app until the quota renews (quota.py), refusing locally without a request.

Logs carry method, path, status, code, log_id and latency; never headers or bodies
(bodies carry mobiles and emails, headers the token). JSON numbers with a fraction are
parsed as ``Decimal`` so money never passes through float.
"""

from __future__ import annotations

import json as _json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import requests
from django.utils.translation import gettext_noop
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from . import hooks
from .auth import SELF_BUILT, TokenProvider
from .coordination import Coordinator, ReservationTooFar
from .errors import (
    QUOTA_EXHAUSTED,
    TOKEN_REFRESH_CODES,
    FeishuAuthError,
    FeishuError,
    FeishuQuotaExhausted,
    FeishuRateLimited,
    FeishuTransportError,
    TenantUnavailable,
    error_from_response,
)
from .quota import MonthlyQuota
from .ratelimit import RateLimiter
from .shapes import Cache, JSONObject

log = logging.getLogger(__name__)

MAX_RESET_WAIT = 60.0  # never trust a reset header to park a worker for longer
# A call leaving later than this after its slot moves the slots not taken yet (ratelimit.py).
LATE_TOLERANCE = 0.002


@dataclass(frozen=True)
class FeishuResponse:
    data: JSONObject = field(default_factory=dict)
    log_id: str | None = None
    http_status: int = 200


def _encode(value: object) -> float:
    if isinstance(value, Decimal):
        return float(value)  # Feishu's wire format for money is a JSON number
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _reset_after(resp: requests.Response) -> float | None:
    try:
        value = float(resp.headers["x-ogw-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
    return max(0.0, value)


def _never_connected(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(
        reason, NewConnectionError | ConnectTimeoutError
    )


def environment_session(base_url: str) -> requests.Session:
    """A session that honours the environment's proxy (``HTTPS_PROXY``, ``NO_PROXY``…) and CA
    bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) for ``base_url``, read once here. A
    plain session reads them again on every request (a scan of the whole environment: about
    a tenth of the CPU a payout line costs a worker), for a client that only ever calls the
    one base URL; a process's environment does not change meanwhile."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False  # .netrc too: Feishu's calls authenticate with their token header
    return session


class FeishuClient:
    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        app_type: str = SELF_BUILT,
        *,
        cache: Cache,
        coordinator: Coordinator,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        max_ratelimit_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rate_safety: float = 0.97,
        max_rate_wait: float = 30.0,
        # The seconds of Feishu's per-minute windows: a minute, except in the tests, which
        # shorten it on both sides (settings.FEISHU_QUOTA_MINUTE, the sandbox's limiter).
        quota_minute: float = 60.0,
        ticket_wait: float = 5.0,
        # When a cached token is due for refresh; tests move it with the sandbox's.
        clock: Callable[[], float] = time.time,
        # tenant_gate(tenant_key) raises TenantUnavailable for a tenant not to call.
        tenant_gate: Callable[[str | None], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_type = app_type
        self.timeout = timeout
        self.session = session or environment_session(self.base_url)  # one per client: keep-alive
        self.max_ratelimit_retries = max_ratelimit_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self.limiter = RateLimiter(
            coordinator, safety=rate_safety, max_wait=max_rate_wait, minute=quota_minute
        )
        self.tokens = TokenProvider(
            base_url=self.base_url,
            app_id=app_id,
            app_secret=app_secret,
            app_type=app_type,
            cache=cache,
            coordinator=coordinator,
            post=self._auth_post,
            ticket_wait=ticket_wait,
            clock=clock,
        )
        self.quota = MonthlyQuota(cache, self.base_url, app_id, clock=clock)
        self.tenant_gate = tenant_gate

    def __repr__(self) -> str:  # no secret in reprs that end up in logs or tracebacks
        return f"<FeishuClient {self.base_url} app_id={self.app_id} type={self.app_type}>"

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        json: JSONObject | None = None,
        params: dict[str, str] | None = None,
        tenant_key: str | None = None,
    ) -> FeishuResponse:
        status, body, log_id = self._call(
            method,
            path,
            endpoint=endpoint,
            json=json,
            params=params,
            tenant_key=tenant_key,
            authed=True,
        )
        return FeishuResponse(data=body.get("data") or {}, log_id=log_id, http_status=status)

    def _auth_post(self, path: str, body: JSONObject, endpoint: str) -> JSONObject:
        # Token endpoints answer at the top level (no "data"); fetching a token is repeatable.
        return self._call(
            "POST", path, endpoint=endpoint, json=body, params=None, tenant_key=None, authed=False
        )[1]

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not crypto

    def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        json: JSONObject | None,
        params: dict[str, str] | None,
        tenant_key: str | None,
        authed: bool,
    ) -> tuple[int, JSONObject, str | None]:
        if authed:
            self._check_tenant(tenant_key, endpoint)
        stopped = self.quota.stopped_until()
        if stopped:
            raise FeishuQuotaExhausted(
                QUOTA_EXHAUSTED,
                "not sent: Feishu answered 99991403 before, the monthly call quota is used up",
                until=stopped,
                endpoint=endpoint,
            )
        # A self-built app has one tenant; keep one limiter key whatever the caller passes.
        limit_tenant = None if self.app_type == SELF_BUILT else tenant_key
        rate_limited = 0
        refreshed = False
        extra_wait = 0.0
        while True:
            headers: dict[str, str] = {}
            token = None
            if authed:
                token = self.tokens.tenant_token(tenant_key)
                headers["Authorization"] = f"Bearer {token}"
            try:
                wait = self.limiter.acquire(self.app_id, limit_tenant, endpoint)
            except ReservationTooFar as exc:
                raise FeishuRateLimited(
                    None, "local rate limiter queue is full", reset_after=exc.wait, endpoint=endpoint
                ) from None
            hooks.emit("limiter_waited", endpoint, wait)
            wait = max(wait, extra_wait)
            due = time.monotonic() + wait
            if wait > 0:
                self._sleep(wait)
            late = time.monotonic() - due
            if late > LATE_TOLERANCE:
                self.limiter.sent_late(self.app_id, limit_tenant, endpoint, late)
            try:
                return self._send(method, path, endpoint=endpoint, json=json, params=params, headers=headers)
            except FeishuQuotaExhausted as exc:
                exc.until = self.quota.stop()
                log.error("feishu %s: monthly API call quota used up; calls stop until it renews", endpoint)
                raise
            except FeishuAuthError as exc:
                if not (authed and exc.code in TOKEN_REFRESH_CODES) or refreshed:
                    raise
                refreshed = True
                self.tokens.invalidate(tenant_key, token=token)
                log.info("feishu %s: token rejected (code=%s), retrying with a new one", endpoint, exc.code)
            except FeishuRateLimited as exc:
                hooks.emit("rate_limited", endpoint)
                if rate_limited >= self.max_ratelimit_retries:
                    raise
                rate_limited += 1
                delay = exc.reset_after if exc.reset_after is not None else self._backoff(rate_limited)
                extra_wait = min(delay, MAX_RESET_WAIT)
                self.limiter.push_back(self.app_id, limit_tenant, endpoint, extra_wait)
                log.info("feishu %s: rate limited, retry %d in %.2fs", endpoint, rate_limited, extra_wait)

    def _check_tenant(self, tenant_key: str | None, endpoint: str) -> None:
        """Before anything is sent: a store app's call must name its tenant (each tenant has
        its own token), and the gate refuses a tenant that stopped or uninstalled the app."""
        if self.app_type != SELF_BUILT and not tenant_key:
            raise TenantUnavailable(  # a msgid: hireops.feishu_calls.failures renders it for staff
                gettext_noop("Not sent: a store app calls Feishu for one tenant, and none was given."),
                endpoint=endpoint,
            )
        if self.tenant_gate is not None:
            self.tenant_gate(tenant_key)

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        json: JSONObject | None,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> tuple[int, JSONObject, str | None]:
        data = None
        if json is not None:
            data = _json.dumps(json, ensure_ascii=False, default=_encode).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        started = time.monotonic()
        try:
            resp = self.session.request(
                method, self.base_url + path, params=params, data=data, headers=headers, timeout=self.timeout
            )
        except requests.Timeout as exc:
            connect = isinstance(exc, requests.ConnectTimeout)
            self._log(logging.INFO, method, path, endpoint, None, None, None, started)
            raise FeishuTransportError(
                f"{'connect' if connect else 'read'} timeout after {self.timeout:g}s",
                maybe_applied=not connect,
                endpoint=endpoint,
            ) from exc
        except requests.ConnectionError as exc:
            self._log(logging.INFO, method, path, endpoint, None, None, None, started)
            never = _never_connected(exc)
            raise FeishuTransportError(
                "could not connect" if never else "connection lost before an answer",
                maybe_applied=not never,
                endpoint=endpoint,
            ) from exc
        except requests.RequestException as exc:
            raise FeishuTransportError(f"request failed: {type(exc).__name__}", endpoint=endpoint) from exc

        log_id = resp.headers.get("X-Tt-Logid")
        try:
            body = _json.loads(resp.content, parse_float=Decimal)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._log(logging.INFO, method, path, endpoint, resp.status_code, None, log_id, started)
            ctype = resp.headers.get("Content-Type") or "no content type"
            raise error_from_response(
                resp.status_code,
                None,
                f"non-JSON response ({ctype})",
                log_id=log_id,
                endpoint=endpoint,
                reset_after=_reset_after(resp),
            )
        code = body.get("code")
        code = code if isinstance(code, int) else None
        ok = 200 <= resp.status_code < 300 and code == 0
        level = logging.DEBUG if ok else logging.INFO
        self._log(level, method, path, endpoint, resp.status_code, code, log_id, started)
        if ok:
            return resp.status_code, body, log_id
        raise error_from_response(
            resp.status_code,
            code,
            str(body.get("msg") or ""),
            log_id=log_id,
            endpoint=endpoint,
            reset_after=_reset_after(resp),
        )

    @staticmethod
    def _log(
        level: int,
        method: str,
        path: str,
        endpoint: str,
        status: int | None,
        code: int | None,
        log_id: str | None,
        started: float,
    ) -> None:
        """Log the call and report it (hooks: the metrics): both for every answer or transport failure."""
        seconds = time.monotonic() - started
        hooks.emit("call_finished", endpoint, status, code, seconds)
        log.log(
            level,
            "feishu %s %s status=%s code=%s log_id=%s %.0fms",
            method,
            path,
            status,
            code,
            log_id,
            seconds * 1000,
            # As fields of their own in JSON logs: one call is found by Feishu's X-Tt-Logid.
            extra={"feishu_log_id": log_id, "feishu_endpoint": endpoint},
        )


__all__ = ["FeishuClient", "FeishuError", "FeishuResponse"]
