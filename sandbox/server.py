"""The Feishu sandbox server: lifecycle, reset, request log, fault injection, event helpers.

``/open-apis/...`` emulates Feishu (docs/feishu.md); ``/_sandbox/...`` is the
control API (control.py). The HTTP handling itself is in handler.py. With a ``ws_port``
the sandbox also speaks the long connection (longconn.py): discovery on the HTTP port,
the WebSocket on ``ws_port``.
"""

import fnmatch
import sys
import threading
from http.server import ThreadingHTTPServer

from . import control, persistence
from .events import (
    DEFAULT_RETRY_DELAYS,
    TICKET_RESEND_DELAY,
    EventPusher,
    PushConfig,
    app_ticket_v1,
    envelope_v2,
    lifecycle_v1,
)
from .handler import Handler
from .longconn import LongConnHub, url_host
from .partner import Receiver
from .ratelimit import RateLimiter
from .state import SandboxState

FAULT_KINDS = ("5xx", "slow", "late", "ratelimit", "drop", "error")
MAX_LOG = 50_000


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server (daemon threads) that drops a caller who hung up before its
    answer (its timeout, a test's end) without a word, as Feishu's gateway does: it is no
    error of the server's. Anything else is printed, as socketserver prints it. The sandbox
    and the tests' own receivers serve with it."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _HTTPServer(QuietHTTPServer):
    request_queue_size = 128  # benchmarks open many connections at once; the default backlog is 5
    # IPv4's (host, port) or IPv6's (host, port, flow info, scope id): a host is text here.
    server_address: tuple[str, int] | tuple[str, int, int, int]
    sandbox: "SandboxServer"  # the handler's way back to the sandbox it serves


def _quota_minute() -> float:
    """The seconds of a per-minute quota window: the client's (settings.FEISHU_QUOTA_MINUTE)
    where Django is configured, so that the client never paces to a shorter minute than the
    sandbox counts; a minute otherwise."""
    from django.conf import settings

    return float(getattr(settings, "FEISHU_QUOTA_MINUTE", 60.0)) if settings.configured else 60.0


class SandboxServer:
    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        *,
        app_id,
        app_secret,
        webhook_url=None,
        encrypt_key="",
        verification_token="",
        directory_file=None,
        token_ttl=7200,
        retry_delays=DEFAULT_RETRY_DELAYS,
        app_ticket_interval=3600.0,
        ticket_resend_delay=TICKET_RESEND_DELAY,
        ws_port=None,
        delivery="webhook",
        client_config=None,
        login_redirect_uris=(),
        state_file=None,
        partner_secret="",
        quota_minute=None,
    ):
        """``ws_port``: where the long connection listens (0: any free port; None: no long
        connection). ``delivery``: webhook | long_connection | both (events.py).
        ``login_redirect_uris``: where the Hire app's web login may send the browser back
        (login_api.py); reset restores them. ``state_file``: where the state is kept across
        restarts (persistence.py; loaded here if it exists, raising StateFileError if it
        cannot be used); None: in memory only, each start from the seed. ``quota_minute``: the
        seconds a per-minute quota window lasts; None: the client's (``_quota_minute``)."""
        self.partner = Receiver(partner_secret)  # the demo's partner receiving hireops' webhooks
        self._seed_push = {
            "webhook_url": webhook_url,
            "encrypt_key": encrypt_key,
            "verification_token": verification_token,
            "retry_delays": tuple(retry_delays),
            "ticket_resend_delay": ticket_resend_delay,
            "delivery": delivery,
            "client_config": client_config,
        }
        self.state = SandboxState(
            app_id, app_secret, directory_file, token_ttl, login_redirect_uris=login_redirect_uris
        )
        self.keeper = self.restored_from = None
        if state_file:
            saved = persistence.read(state_file)
            if saved is not None:
                persistence.load(self.state, saved)
                self.restored_from = saved["saved_at"]
            self.keeper = persistence.Keeper(state_file, self.state)
        self.limiter = RateLimiter(minute=_quota_minute() if quota_minute is None else quota_minute)
        self.pusher = EventPusher(PushConfig(**self._seed_push), self._hourly_ticket, app_ticket_interval)
        self._lock = threading.Lock()
        self.faults: list[dict] = []
        self.request_log: list[dict] = []
        self.httpd = _HTTPServer((host, port), Handler)
        self.httpd.sandbox = self
        self.longconn = None
        if ws_port is not None:
            self.longconn = LongConnHub(host, ws_port, lambda: self.pusher.config.client_config)
            self.pusher.long_connection = self.longconn.deliver
        self._thread = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def ws_url(self) -> str | None:
        """Where the long connection listens (clients find their URL through discovery)."""
        if self.longconn is None:
            return None
        return f"ws://{url_host(self.longconn.host)}:{self.longconn.port}"

    # --- lifecycle ------------------------------------------------------------
    def changed(self) -> None:
        """The state changed: with a state file, it is written shortly (persistence.py)."""
        if self.keeper is not None:
            self.keeper.changed()

    def _started(self) -> None:
        if self.keeper is not None:
            self.keeper.start()
        if self.longconn is not None:
            self.longconn.start()
        self.pusher.start()
        if self.pusher.config.webhook_url:
            self.push_app_ticket()

    def start(self) -> "SandboxServer":
        self._started()
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="feishu-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._started()
        try:
            self.httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.httpd.server_close()
            self._stopped()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._stopped()

    def _stopped(self) -> None:
        self.pusher.stop()
        self._stop_longconn()
        if self.keeper is not None:
            self.keeper.stop()  # the last changes are written before the process ends

    def _stop_longconn(self) -> None:
        if self.longconn is not None:
            self.longconn.stop()

    def reset(self) -> None:
        self.state.reset()
        self.changed()  # a state file holds the seed state from now on
        self.limiter.reset()
        self.pusher.reset(PushConfig(**self._seed_push))
        if self.longconn is not None:
            self.longconn.reset()
        with self._lock:
            self.faults.clear()
            self.request_log.clear()

    def configure(self, **changes) -> dict:
        current = self.pusher.config.as_dict()
        unknown = set(changes) - set(current)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if isinstance(changes.get("client_config"), dict):  # a partial ClientConfig merges
            changes["client_config"] = {**current["client_config"], **changes["client_config"]}
        current.update({k: v for k, v in changes.items() if v is not None})
        self.pusher.config = PushConfig(**current)
        return self.pusher.config.as_dict()

    # --- faults and log -----------------------------------------------------------
    def add_fault(
        self,
        path: str,
        kind: str,
        count: int = 1,
        status: int = 500,
        delay: float = 0.0,
        code: int | None = None,
        msg: str = "",
    ) -> dict:
        """``error``: answer ``{"code": code, "msg": msg, "data": {}}`` with HTTP ``status``
        (any code Feishu documents: 1002001 with 400 or 500, 99991403 with 429, …)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if int(count) < 1:
            raise ValueError("count must be at least 1")
        if kind == "error" and not isinstance(code, int):
            raise ValueError("an error fault needs its Feishu code")
        fault = {
            "path": path,
            "kind": kind,
            "count": int(count),
            "status": int(status),
            "delay": float(delay),
            "code": code,
            "msg": str(msg or "scripted error"),
        }
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, path: str) -> dict | None:
        with self._lock:
            for fault in self.faults:
                if fnmatch.fnmatchcase(path, fault["path"]):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return dict(fault)
        return None

    def _log(self, entry: dict) -> None:
        with self._lock:
            self.request_log.append(entry)
            if len(self.request_log) > MAX_LOG:  # a long-running dev sandbox must not grow forever
                del self.request_log[: MAX_LOG // 10]

    # --- events -------------------------------------------------------------------
    def _event(self, event_type: str, event: dict, tenant_key: str) -> dict:
        token = self.pusher.config.verification_token
        return self.pusher.push(
            envelope_v2(
                event_type,
                event,
                app_id=self.state.app_id,
                tenant_key=tenant_key,
                token=token,
                now=self.state.clock.time(),
            )
        )

    def push_app_ticket(self, delay: float = 0.0) -> dict:
        ticket = self.state.new_ticket()
        self.changed()
        token = self.pusher.config.verification_token
        event = app_ticket_v1(self.state.app_id, ticket, token, now=self.state.clock.time())
        return self.pusher.push(event, delay=delay)

    def push_lifecycle(self, tenant_key: str, kind: str, status: str = "", name: str = "") -> dict:
        """A tenant installs (app_open), stops or starts (app_status_change) or uninstalls the
        app: the sandbox remembers the tenant (and its company ``name``, if given) and pushes
        the schema 1.0 event."""
        if kind not in ("app_open", "app_status_change", "app_uninstalled"):
            raise ValueError(f"unknown lifecycle event {kind!r}")
        if kind == "app_status_change" and status not in (
            "start_by_tenant",
            "stop_by_tenant",
            "stop_by_platform",
        ):
            raise ValueError(f"unknown app status {status!r}")
        with self.state.lock:
            if tenant_key not in self.state.tenants:
                self.state.tenants.append(tenant_key)
            if name:
                self.state.tenant_names[tenant_key] = name
        self.changed()
        token = self.pusher.config.verification_token
        now = self.state.clock.time()
        return self.pusher.push(
            lifecycle_v1(self.state.app_id, tenant_key, kind, token, now=now, status=status)
        )

    def _hourly_ticket(self) -> None:
        if self.pusher.config.webhook_url:
            self.push_app_ticket()

    def emit_assets_update(self, account) -> dict | None:
        """Call with state.lock held so modify_time order equals push order."""
        if account.status != 1:
            return None  # deactivated accounts get no assets_update (docs/feishu.md §4)
        event = {
            "account_id": account.account_id,
            "assets": account.assets(),
            "modify_time": str(account.next_modify_ms(self.state.clock.ms())),
        }
        return self._event("hire.referral_account.assets_update_v1", event, account.tenant_key)

    def bind_account(
        self,
        scope=1,
        account_name=None,
        usage_list=(1,),
        custom_field_list=(),
        account_id=None,
        tenant_key=None,
    ) -> dict:
        return control.bind_account(
            self, scope, account_name, usage_list, custom_field_list, account_id, tenant_key
        )
