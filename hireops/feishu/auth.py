"""Tenant (and, for store apps, app) access tokens, shared by every process.

Tokens live in the shared Django cache (Redis or the file cache), so web, workers and beat
use one token instead of each fetching their own. A refresh runs under a coordinator lock
and re-reads the cache after taking it: when N processes find the token missing at once,
one fetches and the others find it in the cache (single-flight, no stampede).

A token is refreshed ``expire - margin`` seconds after it was fetched, with
``margin = min(600, expire / 4)``: the SDK's 10-minute head start for real 2-hour tokens
(docs/feishu.md §1.1), scaled down so that a token living a few seconds is still refreshed
before it expires. The cache entry is ``(token, refresh_at)``: ``refresh_at`` is read
against the provider's ``clock`` (``time.time`` unless injected), so a test can move the
client's clock with the sandbox's instead of sleeping. The cache's own expiry, the same
lifetime in real seconds, stays as an upper bound so no entry outlives its token.

Store apps (§1.2): app_ticket (pushed hourly by Feishu, saved by the webhook through
``save_app_ticket``) → app_access_token → tenant_access_token per tenant_key. A missing
ticket, or 10012 for a stale one, triggers ``app_ticket/resend``; we then poll the cache
briefly (``ticket_wait``, seconds) for the webhook to store the new ticket, else fail with a
retryable error: the task is retried with its backoff instead of holding a worker while
Feishu takes its time (after a restart, a couple of minutes). One resend per
``RESEND_EVERY`` for all processes together: the calls that fail meanwhile wait for the
ticket already asked for instead of asking again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from . import hooks
from .coordination import Coordinator, LockTimeout
from .errors import FeishuAuthError
from .shapes import Cache, JSONObject

log = logging.getLogger(__name__)

SELF_BUILT = "self_built"
STORE = "store"
APP_TYPES = (SELF_BUILT, STORE)

TICKET_TTL = 12 * 3600  # Feishu pushes hourly; the Go SDK also keeps a ticket 12 h
RESEND_EVERY = 120  # seconds between two app_ticket/resend requests, all processes together
MAX_MARGIN = 600.0

# post(path, body, endpoint) -> top-level JSON of a code-0 answer; raises FeishuError.
Post = Callable[[str, JSONObject, str], JSONObject]


def ticket_key(app_id: str) -> str:
    return f"feishu:app_ticket:{app_id}"


def resend_key(app_id: str) -> str:
    return f"feishu:app_ticket_resend:{app_id}"


def save_app_ticket(cache: Cache, app_id: str, ticket: str) -> None:
    """Store the app_ticket delivered by the ``app_ticket`` event (schema 1.0)."""
    cache.set(ticket_key(app_id), ticket, TICKET_TTL)
    cache.delete(resend_key(app_id))  # it came: a later stale ticket may ask again at once


def refresh_after(expire: int | float) -> float:
    """Seconds after fetching a token that lives ``expire`` seconds when we fetch the next one."""
    return expire - min(MAX_MARGIN, expire / 4)


def cache_ttl(expire: int | float) -> int:
    return max(1, int(refresh_after(expire)))  # int: Django's Redis backend wants whole seconds


class TokenProvider:
    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        app_type: str,
        cache: Cache,
        coordinator: Coordinator,
        post: Post,
        ticket_wait: float = 5.0,
        lock_timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        if app_type not in APP_TYPES:
            raise ValueError(f"app_type must be one of {APP_TYPES}, not {app_type!r}")
        self.app_id = app_id
        self._secret = app_secret
        self.app_type = app_type
        self._cache = cache
        self._coordinator = coordinator
        self._post = post
        self.ticket_wait = ticket_wait
        self.lock_timeout = lock_timeout
        self.clock = clock
        # Keyed by base URL too, so sandbox and production tokens of one app_id never mix.
        self._scope = f"{hashlib.sha256(base_url.encode('utf-8')).hexdigest()[:12]}:{app_id}"

    # --- public -----------------------------------------------------------------------

    def tenant_token(self, tenant_key: str | None = None) -> str:
        tenant_key = self._tenant(tenant_key)
        return self._cached(self._key("tenant_token", tenant_key), lambda: self._fetch_tenant(tenant_key))

    def app_token(self) -> str:
        """Store apps only: the app_access_token (self-built apps never need it here)."""
        if self.app_type != STORE:
            raise ValueError("app_token() is for store apps")
        return self._cached(self._key("app_token"), self._fetch_app_token)

    def invalidate(self, tenant_key: str | None = None, *, token: str | None = None) -> None:
        """Drop the cached tenant token. With ``token``, only if it is still the cached one,
        so a process holding a stale token does not throw away the fresh one another
        process just fetched."""
        self._drop(self._key("tenant_token", self._tenant(tenant_key)), token)

    def invalidate_app_token(self, *, token: str | None = None) -> None:
        self._drop(self._key("app_token"), token)

    # --- internals --------------------------------------------------------------------

    def _tenant(self, tenant_key: str | None) -> str | None:
        if self.app_type == SELF_BUILT:
            return None  # a self-built app has exactly one tenant
        if not tenant_key:
            raise ValueError("store apps need a tenant_key for every call")
        return tenant_key

    def _key(self, kind: str, tenant_key: str | None = None) -> str:
        # "v2": entries are (token, refresh_at); the previous release cached bare strings under
        # the old name, and during a rolling deploy neither must read the other's entries.
        return f"feishu:{kind}:v2:{self._scope}" + (f":{tenant_key}" if tenant_key else "")

    @staticmethod
    def _token_of(entry: object) -> str | None:
        return entry[0] if isinstance(entry, tuple) and len(entry) == 2 else None

    def _fresh(self, key: str) -> str | None:
        entry = self._cache.get(key)
        token = self._token_of(entry)
        return token if token and self.clock() < entry[1] else None

    def _drop(self, key: str, token: str | None) -> None:
        if token is None or self._token_of(self._cache.get(key)) == token:
            self._cache.delete(key)

    def _cached(self, key: str, fetch: Callable[[], tuple[str, int]]) -> str:
        token = self._fresh(key)
        if token:
            return token
        try:
            with self._coordinator.lock(key, self.lock_timeout):
                token = self._fresh(key)  # someone may have refreshed while we waited
                if token:
                    return token
                asked_at = self.clock()  # Feishu counts from its answer: before that errs early
                token, expire = fetch()
                self._cache.set(key, (token, asked_at + refresh_after(expire)), cache_ttl(expire))
                log.info("feishu token refreshed kind=%s expire=%ss", key.split(":")[1], expire)
                return token
        except LockTimeout:
            raise FeishuAuthError(
                None, "token refresh is still running in another process", retryable=True, endpoint="auth"
            ) from None

    def _fetch_tenant(self, tenant_key: str | None) -> tuple[str, int]:
        hooks.emit("token_refreshed", "tenant")
        if self.app_type == SELF_BUILT:
            body = self._post(
                "/open-apis/auth/v3/tenant_access_token/internal",
                {"app_id": self.app_id, "app_secret": self._secret},
                "auth.tenant_access_token.internal",
            )
            return body["tenant_access_token"], int(body["expire"])
        for attempt in (1, 2):
            app_token = self.app_token()
            try:
                body = self._post(
                    "/open-apis/auth/v3/tenant_access_token",
                    {"app_access_token": app_token, "tenant_key": tenant_key},
                    "auth.tenant_access_token",
                )
                return body["tenant_access_token"], int(body["expire"])
            except FeishuAuthError as exc:
                if exc.code != 99991664 or attempt == 2:  # 99991664: app token no longer valid
                    raise
                self.invalidate_app_token(token=app_token)
        raise AssertionError("unreachable")

    def _fetch_app_token(self) -> tuple[str, int]:
        hooks.emit("token_refreshed", "app")
        ticket = self._cache.get(ticket_key(self.app_id)) or self._resend_and_wait(stale=None)
        for attempt in (1, 2):
            try:
                body = self._post(
                    "/open-apis/auth/v3/app_access_token",
                    {"app_id": self.app_id, "app_secret": self._secret, "app_ticket": ticket},
                    "auth.app_access_token",
                )
                return body["app_access_token"], int(body["expire"])
            except FeishuAuthError as exc:
                if exc.code != 10012 or attempt == 2:  # 10012: ticket stale → ask for a new one
                    raise
                ticket = self._resend_and_wait(stale=ticket)
        raise AssertionError("unreachable")

    def _resend_and_wait(self, stale: str | None) -> str:
        asked = resend_key(self.app_id)
        if self._cache.add(asked, self.clock(), RESEND_EVERY):  # nobody asked lately
            try:
                self._post(
                    "/open-apis/auth/v3/app_ticket/resend",
                    {"app_id": self.app_id, "app_secret": self._secret},
                    "auth.app_ticket.resend",
                )
            except Exception:
                self._cache.delete(asked)  # not asked after all: the next call asks again
                raise
        # Feishu delivers the ticket to our webhook asynchronously; the webhook process
        # writes it to the shared cache, so polling the cache sees it from any process.
        deadline = time.monotonic() + self.ticket_wait
        while True:
            ticket: str | None = self._cache.get(ticket_key(self.app_id))
            if ticket and ticket != stale:
                return ticket
            if time.monotonic() >= deadline:
                raise FeishuAuthError(
                    None,
                    "app_ticket has not arrived yet: Feishu was asked to resend it and can take a couple "
                    "of minutes; the call is retried. If it never comes, check that Feishu can reach "
                    "the event webhook",
                    retryable=True,
                    endpoint="auth.app_ticket",
                )
            time.sleep(0.1)
