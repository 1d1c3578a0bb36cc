"""HTTP plumbing of the sandbox: parse, route, fault injection, auth, rate limit, answer, log.

Order of checks on an OpenAPI call, like Feishu's gateway: injected fault,
route, token, rate limit (so only authenticated calls count), body, handler.
Every OpenAPI answer carries a unique ``X-Tt-Logid``. Custom bot webhooks (bot_api.py)
take no token and parse their own body: their errors have codes of their own. The long
connection's discovery (``POST /callback/ws/endpoint``, longconn.py) is outside /open-apis/
but goes the same way: logged, open to faults, no token. Web login (login_api.py) answers
HTML pages and 302 redirects besides JSON, and some of its routes take form-encoded bodies
(``"form": True``), as a browser's form and django-allauth send them.
"""

import json
import logging
import re
import socket
import time
import uuid
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from hireops.feishu.longconn.protocol import ENDPOINT_PATH

from . import (
    auth_api,
    bot_api,
    control,
    eco_catalogue,
    eco_orders,
    hire_api,
    im_api,
    im_inbox,
    login_api,
    longconn,
    referral_api,
    reward_api,
    tenant_api,
)
from .ratelimit import Throttled
from .state import ApiError

log = logging.getLogger("sandbox")
RATE_LIMIT_BODY = {"code": 99991400, "msg": "request trigger frequency limit"}
# A bot webhook's token (its path) works like a password: the access log leaves it out.
HOOK_TOKEN = re.compile(r"(/bot/v2/hook/)[^/\s?\"]+")


def _compile(tables):
    return [(m, re.compile(p), fn, opts) for table in tables for (m, p, fn, opts) in table]


ROUTES = _compile(
    [
        auth_api.ROUTES,
        login_api.ROUTES,
        hire_api.ROUTES,
        eco_orders.ROUTES,
        eco_catalogue.ROUTES,
        referral_api.ROUTES,
        reward_api.ROUTES,
        tenant_api.ROUTES,
        bot_api.ROUTES,
        im_api.ROUTES,
        longconn.ROUTES,
        control.ROUTES,
        longconn.CONTROL_ROUTES,
        eco_orders.CONTROL_ROUTES,
        bot_api.CONTROL_ROUTES,
        im_inbox.CONTROL_ROUTES,
        login_api.CONTROL_ROUTES,
    ]
)


def new_logid() -> str:
    # Shaped like Feishu's: timestamp + 18 upper-case hex chars, unique per answer.
    return time.strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:18].upper()


SECRET_FIELDS = ("app_secret", "AppSecret", "client_secret")  # token calls; discovery; web login v2
# Web login's calls carry tokens in the body too. (The store-app flow's app_access_token stays
# visible: tests read it from the log.)
LOGIN_SECRET_FIELDS = (*SECRET_FIELDS, "app_access_token", "refresh_token")
FORM_TYPE = "application/x-www-form-urlencoded"


def _is_form(headers) -> bool:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower() == FORM_TYPE


def _form(raw: bytes) -> dict:
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _logged_headers(headers, route) -> dict:
    logged = dict(headers.items())
    if route and route[1].get("kind") == "login":  # user and app tokens: never in the log
        for name in [n for n in logged if n.lower() == "authorization"]:
            logged[name] = logged[name].split(" ")[0] + " ***"
    return logged


def _redact(body, route=None):
    login = route is not None and route[1].get("kind") == "login"
    names = LOGIN_SECRET_FIELDS if login else SECRET_FIELDS
    if isinstance(body, dict) and any(name in body for name in names):
        return {**body, **{name: "***" for name in names if name in body}}
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feishu-sandbox/1.0"
    # The headers and the body go out in two writes. With Nagle's algorithm the body then waits
    # for the ACK of the headers, which the client delays (40 ms on Linux): every answer on a
    # kept-alive connection took 40 ms longer than Feishu's would, and the calls' pace was set
    # by that, not by the code under test (a payout line waited 80 of its 130 ms).
    disable_nagle_algorithm = True
    timeout = 120  # free the thread of an idle keep-alive connection

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), HOOK_TOKEN.sub(r"\1***", format % args))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            data, ctype = (
                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                "application/json; charset=utf-8",
            )
        else:
            data, ctype = str(body).encode("utf-8"), "text/html; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        sb = self.server.sandbox  # type: ignore[attr-defined]  # set by SandboxServer
        # Feishu's gateway counts a call when it arrives: before this thread reads, parses and
        # authenticates it, which on a busy machine can take longer than a quota's slack.
        arrived = sb.limiter.clock()
        split = urlsplit(self.path)
        path = split.path
        query = {
            k: v[0] if len(v) == 1 else v for k, v in parse_qs(split.query, keep_blank_values=True).items()
        }
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route, params = None, {}
        for m, pattern, fn, opts in ROUTES:
            match = pattern.fullmatch(path)
            if match and m == method:
                route, params = (fn, opts), match.groupdict()
                break
        form = route is not None and route[1].get("form") and _is_form(self.headers)
        if form:
            body = _form(raw)
        else:
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                body = None
        call = SimpleNamespace(
            method=method,
            path=path,
            query=query,
            headers=self.headers,
            raw=raw,
            body=body if isinstance(body, dict) else {},
            params=params,
            tenant_key=None,
            client=self.client_address[0],
            arrived=arrived,
        )
        if path.startswith("/partner/"):  # the demo's partner (partner.py), not Feishu
            self._partner(sb, method, path, call)
            return
        if method == "GET" and path == "/im/":  # what people read from the app (im_inbox.py)
            self._send(200, im_inbox.page(sb.state))
            return
        if path.startswith("/_sandbox/"):
            status, answer = control.dispatch(sb, route, call, body)
            self._changed(sb, method)
            self._send(status, answer)
            return
        if not path.startswith("/open-apis/") and path != ENDPOINT_PATH:
            self._send(404, "404 page not found")
            return
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "headers": _logged_headers(self.headers, route),
            "json": _redact(body, route) if raw.strip() and not form else None,
            "form": _redact(body, route) if raw.strip() and form else None,
            "status": None,
            "code": None,
            "time": time.time(),
            "logid": new_logid(),
            "fault": None,
            "tenant_key": None,
        }
        try:
            status, answer, extra = self._openapi(sb, route, call, body, raw, entry)
        except _Dropped:
            # Log first: a client that sees the connection drop may read the log at once.
            entry["tenant_key"] = call.tenant_key
            sb._log(entry)
            self._changed(sb, method)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        entry["status"] = status
        entry["code"] = answer.get("code") if isinstance(answer, dict) else None
        entry["tenant_key"] = call.tenant_key  # whose quota the call counted against
        sb._log(entry)
        self._changed(sb, method)
        self._send(status, answer, {"X-Tt-Logid": entry["logid"], **extra})

    def _partner(self, sb, method: str, path: str, call) -> None:
        receiver = sb.partner
        if method == "POST" and path == "/partner/hooks":
            headers = {k.lower(): v for k, v in call.headers.items()}
            self._send(receiver.take(headers, call.raw), "")
        elif method == "GET" and path == "/partner/events":
            self._send(200, list(receiver.received))
        elif method == "GET" and path == "/partner/":
            self._send(200, receiver.page())
        else:
            self._send(404, "404 page not found")

    @staticmethod
    def _changed(sb, method: str) -> None:
        """Whatever is not a GET may have changed the state: say so before answering, so a
        client that stops the sandbox once answered finds the change in its state file."""
        if method != "GET":
            sb.changed()

    def _openapi(self, sb, route, call, body, raw, entry):
        fault = sb._take_fault(call.path)
        if fault:
            entry["fault"] = fault["kind"]
            if fault["kind"] == "drop":
                raise _Dropped
            if fault["kind"] == "5xx":
                if fault["status"] == 500:
                    return 500, {"code": 1002001, "msg": "system error", "data": {}}, {}
                return (
                    fault["status"],
                    f"<html><body><h1>{fault['status']} Gateway Error</h1></body></html>",
                    {},
                )
            if fault["kind"] == "error":
                return fault["status"], {"code": fault["code"], "msg": fault["msg"], "data": {}}, {}
            spec: dict[str, Any] = route[1] if route else {}  # what the route declares: its kind, its api
            if fault["kind"] == "ratelimit" and spec.get("kind") == "bot":
                return 400, dict(bot_api.TOO_MANY_BODY), {}
            if fault["kind"] == "ratelimit":
                limit = (sb.limiter.limits.get(spec.get("api")) or [(50, 1)])[0][0]
                return (
                    429,
                    dict(RATE_LIMIT_BODY),
                    {"x-ogw-ratelimit-limit": limit, "x-ogw-ratelimit-reset": 1},
                )
            if fault["kind"] == "slow":
                time.sleep(fault["delay"])  # "slow": then act and answer normally
        late = fault["delay"] if fault and fault["kind"] == "late" else 0
        if late:  # "late": act now, answer after the delay (a client that timed out never sees it)
            answer = self._openapi_call(sb, route, call, body, raw)
            time.sleep(late)
            return answer
        return self._openapi_call(sb, route, call, body, raw)

    def _openapi_call(self, sb, route, call, body, raw):
        if route is None:
            # CHOICE: an unknown API or method gets the gateway's plain-text 404, like open.feishu.cn.
            return 404, "404 page not found", {}
        fn, opts = route
        # Token endpoints answer their fields at the top level and errors without "data".
        is_auth = opts.get("kind") in ("auth", "login")
        try:
            if opts.get("auth"):
                call.tenant_key = auth_api.authenticate(sb, call.headers)
                sb.limiter.hit(opts["api"], sb.state.app_id, call.tenant_key, at=call.arrived)
            own_body = opts.get("own_body") or opts.get("kind") in ("bot", "longconn")
            if raw.strip() and not isinstance(body, dict) and not own_body:
                if opts.get("kind") == "login":  # v1 login errors come with HTTP 200
                    raise ApiError(login_api.BAD_REQUEST, "bad request: body is not a JSON object", 200)
                raise ApiError(
                    10003 if is_auth else hire_api.PARAM_ERROR, "param error: body is not a JSON object"
                )
            status, answer, *headers = fn(sb, call)  # a page or a redirect adds its headers
            return status, answer, headers[0] if headers else {}
        except Throttled as exc:
            headers = {"x-ogw-ratelimit-limit": exc.limit, "x-ogw-ratelimit-reset": exc.reset}
            return 429, dict(RATE_LIMIT_BODY), headers
        except ApiError as exc:
            answer = {"code": exc.code, "msg": exc.msg}
            return exc.status, answer if is_auth else {**answer, "data": {}}, {}
        except Exception as exc:  # a sandbox bug must still look like Feishu's system error
            log.exception("sandbox handler failed")
            return 500, {"code": 1002001, "msg": f"system error: {exc}", "data": {}}, {}


class _Dropped(Exception):
    pass
