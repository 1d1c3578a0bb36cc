"""Control API of the Feishu sandbox (JSON in and out, under ``/_sandbox/``), and its Python client.

POST   /_sandbox/reset                 back to seed state (keeps host/port; a state file
                                       holds the seed state from then on)
GET    /_sandbox/requests[?path=…]     every /open-apis request: method, path, query, headers,
                                       json (app_secret redacted), form (a form-encoded body; json
                                       is null then), status, code, time, logid, fault, tenant_key
                                       (the tenant its token acts for: whose quota it counted
                                       against; null before authentication); web login's
                                       calls also mask app_access_token, refresh_token and the
                                       Authorization header
DELETE /_sandbox/requests              clear the request log
GET    /_sandbox/faults                pending faults
POST   /_sandbox/faults                {path (fnmatch pattern), kind: 5xx|slow|late|ratelimit|drop|error,
                                        count=1, status=500, delay=0, code?, msg?}; error answers
                                        Feishu's envelope with that code and HTTP status; slow waits
                                        before acting, late acts at once and answers after the delay
DELETE /_sandbox/faults                clear faults
POST   /_sandbox/tokens/expire         {tickets?: bool} every issued token (and ticket) expires now
POST   /_sandbox/token_ttl             {seconds} lifetime of tokens issued from now on
GET    /_sandbox/clock                 {now, offset}: the sandbox's time (real time + offset)
POST   /_sandbox/clock                 {advance: seconds >= 0} move it forward → {now, offset};
                                       token and app_ticket expiry, modify_time, trans_time and
                                       event create_time follow it, rate limits do not; reset
                                       puts it back to real time
GET    /_sandbox/config                push settings
POST   /_sandbox/config                {webhook_url?, encrypt_key?, verification_token?,
                                        retry_delays?, ticket_resend_delay? (seconds from
                                        app_ticket/resend to the push; 120 unless set),
                                        delivery?: webhook|long_connection|both, ack_timeout?
                                        (seconds, 3), fragment_bytes? (32768), client_config?
                                        {ReconnectCount, ReconnectInterval, ReconnectNonce,
                                        PingInterval} (partial: merged), max_in_flight?
                                        (long-connection attempts awaiting their ack; 0:
                                        unbounded, as Feishu documents none)}
POST   /_sandbox/accounts/<id>/bonus   {point_bonus, cash: [{currency_type, amount}], tenant_key?}
                                       → {account, event}; the event is null for a deactivated account
POST   /_sandbox/eco_accounts          {scope, account_name, usage_list, custom_field_list,
                                        account_id?, tenant_key?} → the hire.eco_account.created_v1 event
POST   /_sandbox/app_ticket            push a fresh app_ticket → the event
POST   /_sandbox/app_tickets           {count} push that many (benchmarks) → {"event_ids": [...]}
POST   /_sandbox/tenants/<key>/lifecycle {type: app_open|app_status_change|app_uninstalled,
                                        status?: start_by_tenant|stop_by_tenant|stop_by_platform,
                                        name?: the company's name (tenant/v2/tenant/query)}
                                       → the schema 1.0 event, pushed (store apps' tenants)
GET    /_sandbox/deliveries            every push attempt {event_id, event_type, attempt,
                                        transport: webhook|long_connection, url (webhook),
                                        connection (device_id), status (HTTP status or ack
                                        code), error, time}
GET    /_sandbox/events                every event generated (payload before encryption)
GET    /_sandbox/state                 accounts, custom fields per tenant/scope, tickets, employees
POST   /_sandbox/employees             {name, email?, enterprise_email?, mobile?, tenant_key?,
                                        user_id?, open_id?, union_id?, employee_no?} → the employee;
                                       pushes contact.user.created_v3 (directory_events.py)
POST   /_sandbox/employees/<user_id>/leave {how: resign|delete, tenant_key?} → the event pushed:
                                       contact.user.updated_v3 (to resigned) or
                                       contact.user.deleted_v3; the account stays usable (CHOICE)
POST   /_sandbox/eco_accounts/<id>/catalogue {packages?: {id: {name, description?}}, items?: {…},
                                        papers?: [{id, name, …}], tenant_key?} put the account's
                                       catalogue in place as if pushed (eco_catalogue.py)
POST   /_sandbox/background_checks   {account_id, tenant_key?, package_id?, additional_item_id_list?,
                                        comment?, candidate?, contact?, custom_field_list?}
                                       → hire.eco_background_check.created_v1, pushed (eco_orders.py);
                                       the package and items must be in the account's catalogue
                                       (no package_id: its first package)
POST   /_sandbox/background_checks/<id>/cancel {reason?} → hire.eco_background_check.canceled_v1
POST   /_sandbox/exams                 {account_id, tenant_key?, paper_id?, candidate?}
                                       → hire.eco_exam.created_v1, pushed; the paper must be in
                                       the account's catalogue (no paper_id: its first paper)
POST   /_sandbox/exams/<id>/grade      the customer finished grading: results now answer 1002855
POST   /_sandbox/accounts/seed         {count, first_id, points?, cash? {currency: amount}, tenants?
                                       [..]} → {"created": count}: synthetic employees with
                                       referral accounts first_id …, spread over the tenants
                                       (benchmarks)
POST   /_sandbox/bots                  {token?, secret?, keywords?: [..], ip_allowlist?: [..]}
                                       → the custom group bot {token, secret, keywords,
                                       ip_allowlist, path, messages}: its webhook is
                                       POST <path> = /open-apis/bot/v2/hook/<token> (bot_api.py)
GET    /_sandbox/bots                  every bot
GET    /_sandbox/bots/<token>/messages what the bot accepted, oldest first: {msg_type,
                                       content | card, time, texts, signed}
POST   /_sandbox/login_apps            {app_id, app_secret, redirect_uris: [..]} an app that may
                                       sign users in (web login, login_api.py) → {app_id,
                                       redirect_uris, hire_app}; the Hire app's app_id (secret
                                       left out) replaces its redirect URIs; reset restores the seed
GET    /_sandbox/login_apps            every login app (no secrets)
POST   /_sandbox/login/expire_codes    every authorization code issued so far expires now → {expired}
GET    /_sandbox/im/messages[?open_id] what the app's messages (im/v1/messages) delivered, oldest
                                       first; POST /_sandbox/im/availability {open_id, available}
                                       and /_sandbox/im/bot {enabled}: see im_inbox.py

Long connection (longconn.py; 400 when the sandbox has no ws_port):
GET    /_sandbox/longconn/connections  open connections {device_id, service_id, remote,
                                       connected_at, last_ping, pings, delivered, acked, stalled}
POST   /_sandbox/longconn/drop         {mode: close|abort} close every connection (code 1000), or
                                       cut its TCP connection without a close frame → {dropped}
POST   /_sandbox/longconn/stall        every open connection goes silent but stays open: no pongs,
                                       nothing sent, what arrives is discarded → {stalled}
POST   /_sandbox/longconn/refuse       {count=1, status=514, autherrcode? (1000040350 with 514),
                                       msg?} the next handshakes are refused that way
POST   /_sandbox/longconn/lose_acks    {count=1} the next acknowledgements are ignored (redelivery)

Errors answer 400/404 with ``{"error": "..."}``.
"""

import secrets
import time

import requests

from . import directory_events
from .referral_api import grant
from .state import ApiError


def _reset(sb, call):
    sb.reset()
    return {"ok": True}


def _requests(sb, call):
    path = call.query.get("path")
    with sb._lock:
        return [e for e in sb.request_log if path is None or e["path"] == path]


def _clear_requests(sb, call):
    with sb._lock:
        sb.request_log.clear()
    return {"ok": True}


def _faults(sb, call):
    with sb._lock:
        return list(sb.faults)


def _add_fault(sb, call):
    b = call.body
    return sb.add_fault(
        b["path"],
        b["kind"],
        b.get("count", 1),
        b.get("status", 500),
        b.get("delay", 0.0),
        b.get("code"),
        b.get("msg", ""),
    )


def _clear_faults(sb, call):
    with sb._lock:
        sb.faults.clear()
    return {"ok": True}


def _expire(sb, call):
    sb.state.expire_tokens(tickets=bool(call.body.get("tickets")))
    return {"ok": True}


def _ttl(sb, call):
    sb.state.set_token_ttl(float(call.body["seconds"]))
    return {"token_ttl": sb.state.token_ttl}


def _clock(sb, call):
    return sb.state.clock.as_dict()


def _advance_clock(sb, call):
    sb.state.clock.advance(call.body["advance"])
    return sb.state.clock.as_dict()


def _config(sb, call):
    return sb.pusher.config.as_dict()


def _configure(sb, call):
    return sb.configure(**call.body)


def _bonus(sb, call):
    b = call.body
    account, event = grant(
        sb, call.params["account_id"], b.get("point_bonus", 0), b.get("cash"), b.get("tenant_key")
    )
    return {"account": account, "event": event}


def _bind(sb, call):
    b = call.body
    return bind_account(
        sb,
        b.get("scope", 1),
        b.get("account_name"),
        b.get("usage_list", [1]),
        b.get("custom_field_list", []),
        b.get("account_id"),
        b.get("tenant_key"),
    )


def _ticket(sb, call):
    return sb.push_app_ticket()


def _tickets(sb, call):
    count = int(call.body.get("count", 1))
    if not 1 <= count <= 10_000:
        raise ValueError("count must be 1 to 10000")
    return {"event_ids": [sb.push_app_ticket()["uuid"] for _ in range(count)]}


def _lifecycle(sb, call):
    b = call.body
    return sb.push_lifecycle(call.params["tenant_key"], b["type"], b.get("status", ""), b.get("name") or "")


def _deliveries(sb, call):
    with sb.pusher._cv:
        return list(sb.pusher.deliveries)


def _events(sb, call):
    with sb.pusher._cv:
        return list(sb.pusher.events)


def _state(sb, call):
    return sb.state.snapshot()


def _add_employee(sb, call):
    employee = sb.state.add_employee(call.body)
    sb.changed()
    directory_events.joined(sb, employee)
    return employee


def _leave(sb, call):
    b = call.body
    try:
        return directory_events.leave(sb, call.params["user_id"], b.get("how", "resign"), b.get("tenant_key"))
    except LookupError as exc:
        raise ApiError(1002553, str(exc)) from exc  # answered 404, like an unknown account


def _seed_accounts(sb, call):
    b = call.body
    ids = sb.state.seed_accounts(
        int(b["count"]), int(b["first_id"]), int(b.get("points", 0)), b.get("cash"), b.get("tenants")
    )
    return {"created": len(ids)}


def bind_account(sb, scope, account_name, usage_list, custom_field_list, account_id, tenant_key) -> dict:
    """The customer adds a vendor account in Hire settings: push hire.eco_account.created_v1."""
    st = sb.state
    tenant_key = tenant_key or st.default_tenant
    if scope not in (1, 2):
        raise ValueError("scope must be 1 (background check) or 2 (exam)")
    if tenant_key not in st.tenants:
        raise ValueError(f"unknown tenant {tenant_key!r}")
    if not usage_list or any(u not in (1, 2) for u in usage_list):
        raise ValueError("usage_list must contain 1 (experienced hire) and/or 2 (campus)")
    values = [{"key": str(f["key"]), "value": str(f["value"])} for f in custom_field_list or []]
    with st.lock:
        fields = st.fields.get((tenant_key, scope), {})
        # CHOICE: when the vendor created fields for this scope, the form only has those keys and
        # required ones must be filled; with no fields created, any key/value list is accepted (demos).
        if fields:
            given = {v["key"] for v in values}
            unknown = given - set(fields)
            if unknown:
                raise ValueError(f"no custom field {sorted(unknown)[0]!r} in scope {scope}")
            missing = [k for k, f in fields.items() if f["is_required"] and k not in given]
            if missing:
                raise ValueError(f"required custom field {missing[0]!r} is missing")
        event = {
            "scope": scope,
            "account_id": str(account_id or st.new_account_id()),
            "account_name": account_name
            or ("背调账号" if scope == 1 else "笔试账号") + f" {secrets.randbelow(1000):03d}",
            "usage_list": list(usage_list),
            "custom_field_list": values,
        }
        st.eco_accounts.append({**event, "tenant_key": tenant_key})
        return sb._event("hire.eco_account.created_v1", event, tenant_key)


_S = "/_sandbox"
ROUTES = [
    (m, _S + p, fn, {"kind": "control"})
    for m, p, fn in [
        ("POST", "/reset", _reset),
        ("GET", "/requests", _requests),
        ("DELETE", "/requests", _clear_requests),
        ("GET", "/faults", _faults),
        ("POST", "/faults", _add_fault),
        ("DELETE", "/faults", _clear_faults),
        ("POST", "/tokens/expire", _expire),
        ("POST", "/token_ttl", _ttl),
        ("GET", "/clock", _clock),
        ("POST", "/clock", _advance_clock),
        ("GET", "/config", _config),
        ("POST", "/config", _configure),
        ("POST", r"/accounts/(?P<account_id>[^/]+)/bonus", _bonus),
        ("POST", "/eco_accounts", _bind),
        ("POST", "/app_ticket", _ticket),
        ("POST", "/app_tickets", _tickets),
        ("POST", r"/tenants/(?P<tenant_key>[^/]+)/lifecycle", _lifecycle),
        ("GET", "/deliveries", _deliveries),
        ("GET", "/events", _events),
        ("GET", "/state", _state),
        ("POST", "/employees", _add_employee),
        ("POST", r"/employees/(?P<user_id>[^/]+)/leave", _leave),
        ("POST", "/accounts/seed", _seed_accounts),
    ]
]


def dispatch(sb, route, call, body) -> tuple[int, object]:
    if route is None:
        return 404, {"error": f"no control endpoint {call.method} {call.path}"}
    if call.raw.strip() and not isinstance(body, dict):
        return 400, {"error": "body must be a JSON object"}
    try:
        return 200, route[0](sb, call)
    except ApiError as exc:
        return 404 if exc.code == 1002553 else 400, {"error": exc.msg}
    except (KeyError, ValueError, TypeError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}


class SandboxError(RuntimeError):
    pass


class SandboxControl:
    """Thin client for the control API; ``.url`` is the sandbox base URL (also the Feishu domain)."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def _call(self, method: str, path: str, json=None, params=None):
        resp = self.http.request(
            method, f"{self.url}/_sandbox{path}", json=json, params=params, timeout=self.timeout
        )
        if resp.status_code >= 400:
            raise SandboxError(f"{method} {path}: HTTP {resp.status_code} {resp.text}")
        return resp.json()

    def reset(self):
        return self._call("POST", "/reset")

    def requests(self, path=None) -> list[dict]:
        return self._call("GET", "/requests", params={"path": path} if path else None)

    def clear_requests(self):
        return self._call("DELETE", "/requests")

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def add_fault(self, path, kind, count=1, status=500, delay=0.0, code=None, msg="") -> dict:
        body = {"path": path, "kind": kind, "count": count, "status": status, "delay": delay}
        return self._call("POST", "/faults", {**body, "code": code, "msg": msg} if kind == "error" else body)

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def expire_tokens(self, tickets=False):
        return self._call("POST", "/tokens/expire", {"tickets": tickets})

    def set_token_ttl(self, seconds):
        return self._call("POST", "/token_ttl", {"seconds": seconds})

    def clock(self) -> dict:
        """``{"now": epoch seconds, "offset": seconds ahead of real time}``."""
        return self._call("GET", "/clock")

    def advance_clock(self, seconds) -> dict:
        return self._call("POST", "/clock", {"advance": seconds})

    def config(self) -> dict:
        return self._call("GET", "/config")

    def configure(
        self,
        webhook_url=None,
        encrypt_key=None,
        verification_token=None,
        retry_delays=None,
        ticket_resend_delay=None,
        delivery=None,
        ack_timeout=None,
        fragment_bytes=None,
        client_config=None,
        max_in_flight=None,
    ) -> dict:
        changes = {
            "webhook_url": webhook_url,
            "encrypt_key": encrypt_key,
            "verification_token": verification_token,
            "retry_delays": retry_delays,
            "ticket_resend_delay": ticket_resend_delay,
            "delivery": delivery,
            "ack_timeout": ack_timeout,
            "fragment_bytes": fragment_bytes,
            "client_config": client_config,
            "max_in_flight": max_in_flight,
        }
        return self._call("POST", "/config", {k: v for k, v in changes.items() if v is not None})

    def grant_bonus(self, account_id, point_bonus=0, cash=None, tenant_key=None) -> dict:
        return self._call(
            "POST",
            f"/accounts/{account_id}/bonus",
            {"point_bonus": point_bonus, "cash": cash or [], "tenant_key": tenant_key},
        )

    def bind_account(
        self,
        scope=1,
        account_name=None,
        usage_list=(1,),
        custom_field_list=(),
        account_id=None,
        tenant_key=None,
    ) -> dict:
        return self._call(
            "POST",
            "/eco_accounts",
            {
                "scope": scope,
                "account_name": account_name,
                "usage_list": list(usage_list),
                "custom_field_list": list(custom_field_list),
                "account_id": account_id,
                "tenant_key": tenant_key,
            },
        )

    def push_app_tickets(self, count: int) -> list[str]:
        return self._call("POST", "/app_tickets", json={"count": count})["event_ids"]

    def push_app_ticket(self) -> dict:
        return self._call("POST", "/app_ticket")

    def tenant_lifecycle(self, tenant_key: str, kind: str, status: str = "", name: str = "") -> dict:
        body = {"type": kind, "status": status, "name": name}
        return self._call("POST", f"/tenants/{tenant_key}/lifecycle", body)

    def install_tenant(self, tenant_key: str, name: str = "") -> dict:
        """``name``: the company's name in Feishu (the tenant info API's), for a new tenant."""
        return self.tenant_lifecycle(tenant_key, "app_open", name=name)

    def suspend_tenant(self, tenant_key: str, by: str = "tenant") -> dict:
        return self.tenant_lifecycle(tenant_key, "app_status_change", f"stop_by_{by}")

    def resume_tenant(self, tenant_key: str) -> dict:
        return self.tenant_lifecycle(tenant_key, "app_status_change", "start_by_tenant")

    def uninstall_tenant(self, tenant_key: str) -> dict:
        return self.tenant_lifecycle(tenant_key, "app_uninstalled")

    def deliveries(self) -> list[dict]:
        return self._call("GET", "/deliveries")

    def events(self) -> list[dict]:
        return self._call("GET", "/events")

    def state(self) -> dict:
        return self._call("GET", "/state")

    def seed_accounts(self, count: int, first_id: int, points: int = 0, cash=None, tenants=None) -> dict:
        body = {"count": count, "first_id": first_id, "points": points, "cash": cash, "tenants": tenants}
        return self._call("POST", "/accounts/seed", body)

    def add_employee(
        self, name, email=None, mobile=None, tenant_key=None, enterprise_email=None, **extra
    ) -> dict:
        body = {"name": name, "email": email, "mobile": mobile, "tenant_key": tenant_key, **extra}
        body["enterprise_email"] = enterprise_email  # the company mailbox web login reports
        return self._call("POST", "/employees", {k: v for k, v in body.items() if v is not None})

    def employee_leave(self, user_id, how="resign", tenant_key=None) -> dict:
        """The employee leaves (``resign`` or ``delete``) → the directory event pushed."""
        return self._call("POST", f"/employees/{user_id}/leave", {"how": how, "tenant_key": tenant_key})

    # --- web login (login_api.py) ------------------------------------------------------------
    def register_login_app(self, app_id, app_secret=None, redirect_uris=()) -> dict:
        """An app that may sign users in; for the Hire app (its app_id, no secret) this
        replaces its redirect URIs."""
        body = {"app_id": app_id, "app_secret": app_secret, "redirect_uris": list(redirect_uris)}
        return self._call("POST", "/login_apps", body)

    def login_apps(self) -> list[dict]:
        return self._call("GET", "/login_apps")

    def expire_login_codes(self) -> dict:
        return self._call("POST", "/login/expire_codes")

    # --- eco orders (eco_orders.py): what a Hire customer does --------------------------------
    def create_background_check(self, account_id, tenant_key=None, **order) -> dict:
        """→ the hire.eco_background_check.created_v1 event (pushed). ``order``: package_id,
        additional_item_id_list, comment, candidate {name, mobile, email, …}, contact,
        custom_field_list, background_check_id."""
        return self._call(
            "POST", "/background_checks", {"account_id": account_id, "tenant_key": tenant_key, **order}
        )

    def seed_catalogue(self, account_id, tenant_key=None, **lists) -> dict:
        """Give the account a catalogue as if the vendor had pushed it. ``lists``: packages,
        items ({id: {name, description?}}), papers ([{id, name, …}])."""
        return self._call(
            "POST", f"/eco_accounts/{account_id}/catalogue", {"tenant_key": tenant_key, **lists}
        )

    def cancel_background_check(self, background_check_id, reason=None) -> dict:
        return self._call("POST", f"/background_checks/{background_check_id}/cancel", {"reason": reason})

    def create_exam(self, account_id, tenant_key=None, **exam) -> dict:
        """→ the hire.eco_exam.created_v1 event (pushed). ``exam``: paper_id, candidate, exam_id."""
        return self._call("POST", "/exams", {"account_id": account_id, "tenant_key": tenant_key, **exam})

    def grade_exam(self, exam_id) -> dict:
        return self._call("POST", f"/exams/{exam_id}/grade")

    # --- custom group bots (bot_api.py) --------------------------------------------------
    def create_bot(self, token=None, secret=None, keywords=(), ip_allowlist=()) -> dict:
        """A group's custom bot; ``url`` in the answer is its webhook on this sandbox."""
        body = {"token": token, "secret": secret, "keywords": list(keywords)}
        bot = self._call("POST", "/bots", {**body, "ip_allowlist": list(ip_allowlist)})
        return {**bot, "url": self.url + bot["path"]}

    def bots(self) -> list[dict]:
        return self._call("GET", "/bots")

    def bot_messages(self, token) -> list[dict]:
        return self._call("GET", f"/bots/{token}/messages")

    # --- messages from the app to people (im_api.py, im_inbox.py) ------------------------------
    def im_messages(self, open_id=None) -> list[dict]:
        """What the app sent people, oldest first (one person's with ``open_id``)."""
        return self._call("GET", "/im/messages", params={"open_id": open_id} if open_id else None)

    def im_availability(self, open_id, available: bool) -> dict:
        """The person is (not) within the app's availability scope (可用范围)."""
        return self._call("POST", "/im/availability", {"open_id": open_id, "available": available})

    def im_bot(self, enabled: bool) -> dict:
        """The app's bot ability on or off (off: every message is refused with 230006)."""
        return self._call("POST", "/im/bot", {"enabled": enabled})

    # --- the long connection (longconn.py) --------------------------------------------------
    def longconn_connections(self) -> list[dict]:
        return self._call("GET", "/longconn/connections")

    def longconn_drop(self, mode="close") -> dict:
        """``close``: close frame 1000; ``abort``: the TCP connection is cut, no close frame."""
        return self._call("POST", "/longconn/drop", {"mode": mode})

    def longconn_stall(self) -> dict:
        return self._call("POST", "/longconn/stall")

    def longconn_refuse(self, count=1, status=514, autherrcode=None, msg="") -> dict:
        body = {"count": count, "status": status, "autherrcode": autherrcode, "msg": msg}
        return self._call("POST", "/longconn/refuse", body)

    def longconn_lose_acks(self, count=1) -> dict:
        return self._call("POST", "/longconn/lose_acks", {"count": count})

    def wait_longconn_connections(self, n: int, timeout: float = 10.0) -> list[dict]:
        """Poll until exactly ``n`` connections are open; their listing."""
        deadline = time.monotonic() + timeout
        while True:
            connections = self.longconn_connections()
            if len(connections) == n:
                return connections
            if time.monotonic() > deadline:
                raise SandboxError(f"expected {n} long connections, have {len(connections)}")
            time.sleep(0.02)
