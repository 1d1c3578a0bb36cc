"""Web login (网页应用登录, OAuth 2.0 authorization code) as django-allauth's Feishu provider uses it.

docs/feishu.md §16. The browser goes to an authorize page (the old ``authen/v1/index`` with
``app_id``, which allauth uses, or the new ``authen/v1/authorize`` with ``client_id``); the
sandbox has no Feishu account to sign in with, so the page lists the directory's employees
(every tenant's) and whoever drives the browser picks one. The page then 302s to the
registered ``redirect_uri`` with a single-use code (5 minutes), which the app exchanges at
``authen/v1/access_token`` (v1: app_access_token, HTTP 200 errors) or ``authen/v2/oauth/token``
(v2: client secret, HTTP 400 errors) for a user_access_token that ``authen/v1/user_info`` takes.

Apps that may sign users in ("login apps") are the Hire app, whose redirect URIs are the
server's ``login_redirect_uris``, and any app a test registers through the control API.
Identities follow Feishu: ``open_id`` differs per app, ``union_id`` is shared, ``tenant_key``
is the employee's tenant, whichever app asked.
"""

import base64
import hashlib
import html
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from .state import ApiError, Token

CODE_TTL = 300  # "valid for 5 minutes and can be used once" (§16.1)
USER_TOKEN_TTL = 7140  # v1 sample's expires_in
REFRESH_TTL = 2591940  # v1 sample's refresh_expires_in (about 30 days)
V2_TOKEN_TTL = 7200  # v2 sample's expires_in
V2_REFRESH_TTL = 604800  # v2 sample's refresh_token_expires_in
# CHOICE: avatars on a host that can never resolve (RFC 2606): the sandbox serves no images.
AVATAR_BASE = "https://avatar.sandbox.invalid"

BAD_REQUEST = 20001
INVALID_APP_TOKEN = 20014
# CHOICE (UNCONFIRMED): the v1 access_token page lists no code for an unknown, expired or
# reused code; 20003 is what the v2 and oidc endpoints answer for a code not found / used.
INVALID_CODE = 20003
OTHER_APPS_CODE = 20024
INVALID_USER_TOKEN = 20005
UNSUPPORTED_GRANT = 20036
BAD_REDIRECT_URI = 20029


@dataclass
class LoginCode:
    code: str
    app_id: str
    redirect_uri: str
    employee: dict
    expires_at: float
    used: bool = False
    code_challenge: str = ""  # PKCE, new page only
    code_challenge_method: str = ""


# --- identities ---------------------------------------------------------------------------
def open_id_for(state, app_id: str, employee: dict) -> str:
    """The employee's open_id in ``app_id``: the directory's in the Hire app (what the Hire APIs
    show), a stable derived one in any other app (an open_id is per app, §16.1)."""
    if app_id == state.app_id:
        return employee["open_id"]
    seed = f"{app_id}\n{employee['tenant_key']}\n{employee['open_id']}".encode()
    return "ou_" + hashlib.sha256(seed).hexdigest()[:32]


def user_fields(state, app_id: str, employee: dict) -> dict:
    """user_info's ``data`` (§16.1). CHOICE: the sandbox grants every field's permission; a field
    the employee lacks (no email, mobile, company mailbox, staff number) is left out, as Feishu
    leaves out a field whose permission the app lacks."""
    name, mobile = employee["name"], employee.get("mobile")
    avatar = f"{AVATAR_BASE}/{employee['union_id']}"
    fields = {
        "name": name.get("zh_cn") or name.get("en_us") or "",
        "en_name": name.get("en_us") or name.get("zh_cn") or "",
        "avatar_url": avatar + "/icon",
        "avatar_thumb": avatar + "/icon_thumb",
        "avatar_middle": avatar + "/icon_middle",
        "avatar_big": avatar + "/icon_big",
        "open_id": open_id_for(state, app_id, employee),
        "union_id": employee["union_id"],
        "tenant_key": employee["tenant_key"],
        "user_id": employee["user_id"],
        "email": employee.get("email"),
        "mobile": f"+{mobile['code']}{mobile['number']}" if mobile else None,
        "enterprise_email": employee.get("enterprise_email"),
        "employee_no": employee.get("employee_no"),
    }
    return {key: value for key, value in fields.items() if value is not None}


# --- redirect URIs --------------------------------------------------------------------------
def _uri_key(uri: str):
    """What Feishu compares: scheme, host and the full path; the query and fragment never count."""
    parts = urlsplit(uri or "")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower(), parts.path


def redirect_allowed(app: dict, redirect_uri: str) -> bool:
    key = _uri_key(redirect_uri)
    return key is not None and any(_uri_key(uri) == key for uri in app["redirect_uris"])


def _append_query(uri: str, params: list) -> str:
    # A #fragment moves to the very end, after code and state (§16.1).
    base, hash_mark, fragment = uri.partition("#")
    sep = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return base + sep + urlencode(params) + hash_mark + fragment


def _redirect(uri: str, params: list):
    target = _append_query(uri, params)
    link = html.escape(target)
    body = f'{PAGE_HEAD}<p><a href="{link}">{link}</a></p>\n</body>\n</html>\n'
    return 302, body, {"Location": target, "Cache-Control": "no-store"}


# --- the authorize pages --------------------------------------------------------------------
def authorize_old(sb, call):
    """``GET /open-apis/authen/v1/index?app_id&redirect_uri&state`` (allauth's)."""
    return _authorize(sb, call, "app_id")


def authorize_new(sb, call):
    """``GET /open-apis/authen/v1/authorize?client_id&redirect_uri&response_type&scope&state``.
    CHOICE: ``app_id`` is taken when ``client_id`` is missing (allauth pointed at this page
    sends both; whether Feishu accepts app_id there is UNCONFIRMED)."""
    return _authorize(sb, call, "client_id")


def _authorize(sb, call, id_param: str):
    # The chooser form posts back here: its fields come in the body, a link's in the query.
    params = {**call.query, **call.body}
    params = {k: v if isinstance(v, str) else v[0] for k, v in params.items()}
    app_id = params.get(id_param) or (params.get("app_id") if id_param == "client_id" else None)
    redirect_uri = params.get("redirect_uri") or ""
    with sb.state.lock:
        app = sb.state.login_apps.get(app_id or "")
        allowed = app is not None and redirect_allowed(app, redirect_uri)
    if not allowed:
        # CHOICE: an unknown app_id gets the same page as a bad redirect_uri (20029 covers "the URL
        # is configured in another app"); HTTP 200, as a page that renders its own error.
        why = "unknown app_id" if app is None else "redirect_uri is not registered for this app"
        detail = f"{why}: {app_id!r}, {redirect_uri!r}"
        return 200, _error_page(BAD_REDIRECT_URI, "redirect_uri 请求不合法", detail)
    # CHOICE: response_type and scope are not checked (the sandbox models no app scopes, so
    # never 20027); allauth sends an empty scope.
    echo = [("state", params["state"])] if "state" in params else []
    if "cancel" in params:
        return _redirect(redirect_uri, [("error", "access_denied"), *echo])
    if params.get("open_id"):
        employee = _employee(sb, app_id, params["open_id"])  # type: ignore[arg-type]  # a known app's
        if employee is None:
            return 400, _error_page(BAD_REQUEST, "no such employee", f"open_id {params['open_id']!r}")
        code = _issue_code(sb, app_id, redirect_uri, employee, params)
        return _redirect(redirect_uri, [("code", code.code), *echo])
    return 200, _chooser_page(sb, app_id, call.path, params), {"Cache-Control": "no-store"}  # type: ignore[arg-type]


def _employee(sb, app_id: str, open_id: str) -> dict | None:
    """By the open_id the page shows (the app's), or by the directory's."""
    with sb.state.lock:
        for emp in sb.state.employees:
            if open_id in (emp["open_id"], open_id_for(sb.state, app_id, emp)):
                return emp
    return None


def _issue_code(sb, app_id, redirect_uri, employee, params) -> LoginCode:
    code = LoginCode(
        secrets.token_urlsafe(48),  # 64 chars of [A-Za-z0-9_-], as the docs reserve
        app_id,
        redirect_uri,
        employee,
        sb.state.clock.time() + CODE_TTL,
        code_challenge=params.get("code_challenge", ""),
        code_challenge_method=params.get("code_challenge_method") or "plain",
    )
    with sb.state.lock:
        sb.state.login_codes[code.code] = code
    return code


PAGE_HEAD = (
    '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
    "<title>飞书 Sandbox: 登录 / Sign in</title>\n</head>\n<body>\n"
)


def _chooser_page(sb, app_id: str, path: str, params: dict) -> str:
    e = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">\n'
        for k, v in params.items()
        if k not in ("open_id", "cancel")
    )
    with sb.state.lock:
        employees = list(sb.state.employees)
        own_tenant = sb.state.default_tenant
    rows = []
    for emp in employees:
        open_id = open_id_for(sb.state, app_id, emp)
        name = emp["name"].get("zh_cn") or emp["name"].get("en_us") or emp["user_id"]
        tenant = emp["tenant_key"]
        other = "" if tenant == own_tenant else " (其他企业 / other tenant)"
        rows.append(
            # The data-* attributes only on the button, so that each selector finds one element.
            f'<li class="employee">'
            f'<button type="submit" name="open_id" value="{e(open_id)}" data-open-id="{e(open_id)}" '
            f'data-tenant-key="{e(tenant)}" data-user-id="{e(emp["user_id"])}">{e(name)}</button> '
            f'<span class="en-name">{e(emp["name"].get("en_us") or "")}</span> '
            f'<span class="tenant">{e(tenant)}{e(other)}</span> '
            f'<span class="email">{e(emp.get("enterprise_email") or emp.get("email") or "")}</span></li>\n'
        )
    return (
        PAGE_HEAD + "<h1>飞书 Sandbox: 选择登录的员工 / Choose the employee who signs in</h1>\n"
        f'<p>应用 / App <code id="app-id">{e(app_id)}</code> → '
        f'<code id="redirect-uri">{e(params.get("redirect_uri", ""))}</code></p>\n'
        f'<form id="login" method="post" action="{e(path)}">\n{hidden}<ul id="employees">\n'
        + "".join(rows)
        + '</ul>\n<p><button type="submit" name="cancel" value="1" id="cancel">拒绝 / Cancel</button></p>\n'
        "</form>\n</body>\n</html>\n"
    )


def _error_page(code: int, msg: str, detail: str) -> str:
    e = html.escape
    return (
        PAGE_HEAD + "<h1>飞书 Sandbox: 登录出错 / Sign-in error</h1>\n"
        f'<p class="error">错误码 / Error code: <span id="error-code">{code}</span></p>\n'
        f'<p id="error-msg">{e(msg)}</p>\n<p id="error-detail">{e(detail)}</p>\n</body>\n</html>\n'
    )


# --- v1: code exchange and user_info (HTTP 200 errors) ----------------------------------------
def _bearer(headers) -> str:
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme == "Bearer" else ""


def _take_code(sb, code: str, app_id: str, errors: dict) -> LoginCode:
    """Check and use up a code; ``errors``: the code (and HTTP status) for each failure."""
    with sb.state.lock:
        found = sb.state.login_codes.get(code or "")
        if found is None:
            raise errors["unknown"]
        if found.app_id != app_id:  # not used up: it may still reach its own app
            raise errors["other_app"]
        if found.used:
            raise errors["used"]
        if found.expires_at <= sb.state.clock.time():
            raise errors["expired"]
        found.used = True
        return found


def _user_token(sb, app_id: str, employee: dict, ttl: float, prefix: str) -> Token:
    token = Token(
        prefix + secrets.token_urlsafe(32),
        "user",
        employee["tenant_key"],
        sb.state.clock.time() + ttl,
        app_id,
        employee,
    )
    return sb.state.add_token(token)


def access_token_v1(sb, call):
    """``POST /open-apis/authen/v1/access_token``: the app token in the body (allauth) or in
    ``Authorization`` (the SDK); the answer carries the tokens and the user's fields."""
    body = call.body
    app_token = body.get("app_access_token") or _bearer(call.headers)
    info = sb.state.token_info(app_token) if isinstance(app_token, str) and app_token else None
    if info is None or info.kind != "app":
        raise ApiError(
            INVALID_APP_TOKEN, "The app access token passed is invalid. Please check the value", 200
        )
    if body.get("grant_type") != "authorization_code":
        raise ApiError(UNSUPPORTED_GRANT, "grant_type must be authorization_code", 200)
    bad_code = ApiError(INVALID_CODE, "The code passed is invalid or has been used", 200)
    errors = {
        "unknown": bad_code,
        "used": bad_code,
        "expired": bad_code,
        "other_app": ApiError(OTHER_APPS_CODE, "The code does not belong to this app", 200),
    }
    code = _take_code(sb, body.get("code") if isinstance(body.get("code"), str) else "", info.app_id, errors)
    token = _user_token(sb, info.app_id, code.employee, USER_TOKEN_TTL, "u-")
    data = {
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": USER_TOKEN_TTL,
        "refresh_token": "ur-" + secrets.token_urlsafe(32),
        "refresh_expires_in": REFRESH_TTL,
        **user_fields(sb.state, info.app_id, code.employee),
        "sid": base64.b64encode(secrets.token_bytes(16)).decode(),
    }
    return 200, {"code": 0, "msg": "success", "data": data}


def user_info(sb, call):
    """``GET /open-apis/authen/v1/user_info`` with ``Authorization: Bearer <user_access_token>``."""
    token = _bearer(call.headers)
    info = sb.state.token_info(token) if token else None
    if info is None or info.kind != "user":
        raise ApiError(
            INVALID_USER_TOKEN, "The user access token passed is invalid. Please check the value", 200
        )
    return 200, {"code": 0, "msg": "success", "data": user_fields(sb.state, info.app_id, info.user)}


# --- v2: RFC 6749-style token endpoint (HTTP 400 errors, no "data") ----------------------------
class _OAuthError(Exception):
    def __init__(self, code: int, error: str, description: str):
        super().__init__(description)
        self.answer = {"code": code, "error": error, "error_description": description}


def _pkce_ok(code: LoginCode, verifier) -> bool:
    if not code.code_challenge:
        return True
    if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == code.code_challenge
    return verifier == code.code_challenge


def token_v2(sb, call):
    """``POST /open-apis/authen/v2/oauth/token`` with ``grant_type=authorization_code`` (§16.1).
    CHOICE: the ``error`` names are RFC 6749's; the docs give only codes. Refresh is not served."""
    try:
        return 200, _token_v2(sb, call)
    except _OAuthError as exc:
        return 400, exc.answer


def _token_v2(sb, call) -> dict:
    try:
        body = json.loads(call.raw) if call.raw.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _OAuthError(20063, "invalid_request", "The request is malformed")
    if body.get("grant_type") != "authorization_code":
        raise _OAuthError(UNSUPPORTED_GRANT, "unsupported_grant_type", "grant_type is not supported")
    if not all(isinstance(body.get(k), str) and body[k] for k in ("client_id", "client_secret", "code")):
        raise _OAuthError(20001, "invalid_request", "client_id, client_secret and code are required")
    with sb.state.lock:
        app = sb.state.login_apps.get(body["client_id"])
    if app is None or app["app_secret"] != body["client_secret"]:
        raise _OAuthError(20002, "invalid_client", "The client secret is invalid")
    code = _peek_code(sb, body["code"])
    if code is not None and code.app_id == app["app_id"]:  # another app's code: 20024 below
        if "redirect_uri" in body and body["redirect_uri"] != code.redirect_uri:
            raise _OAuthError(20071, "invalid_grant", "redirect_uri differs from the authorize request")
        if not _pkce_ok(code, body.get("code_verifier")):
            raise _OAuthError(20049, "invalid_grant", "PKCE verification failed")
    errors = {
        "unknown": _OAuthError(INVALID_CODE, "invalid_grant", "The code is not found"),
        "used": _OAuthError(20065, "invalid_grant", "The code has been used"),
        "expired": _OAuthError(20004, "invalid_grant", "The code has expired"),
        "other_app": _OAuthError(OTHER_APPS_CODE, "invalid_grant", "The code belongs to another app"),
    }
    taken = _take_code(sb, body["code"], app["app_id"], errors)
    token = _user_token(sb, app["app_id"], taken.employee, V2_TOKEN_TTL, "")
    scope = str(body.get("scope") or "")
    answer = {"code": 0, "access_token": token.token, "expires_in": V2_TOKEN_TTL, "token_type": "Bearer"}
    if "offline_access" in scope.split():  # refresh tokens only with offline_access (§16.1)
        answer.update(refresh_token=secrets.token_urlsafe(32), refresh_token_expires_in=V2_REFRESH_TTL)
    return {**answer, "scope": scope}


def _peek_code(sb, code: str) -> LoginCode | None:
    with sb.state.lock:
        return sb.state.login_codes.get(code)


_A = "/open-apis/authen"
ROUTES = [
    ("GET", _A + "/v1/index", authorize_old, {"kind": "page"}),
    ("POST", _A + "/v1/index", authorize_old, {"kind": "page", "form": True}),
    ("GET", _A + "/v1/authorize", authorize_new, {"kind": "page"}),
    ("POST", _A + "/v1/authorize", authorize_new, {"kind": "page", "form": True}),
    ("POST", _A + "/v1/access_token", access_token_v1, {"kind": "login"}),
    ("GET", _A + "/v1/user_info", user_info, {"kind": "login"}),
    ("POST", _A + "/v2/oauth/token", token_v2, {"kind": "login", "own_body": True}),
]


# --- control API ---------------------------------------------------------------------------
def _public(state, app: dict) -> dict:
    # The secret stays out of answers: the control API's output ends up in terminals and logs.
    return {
        "app_id": app["app_id"],
        "redirect_uris": list(app["redirect_uris"]),
        "hire_app": app["app_id"] == state.app_id,
    }


def register_login_app(sb, call):
    """``{app_id, app_secret, redirect_uris}``; for the Hire app the secret is optional (it is
    the server's) and only its redirect URIs change."""
    b = call.body
    app_id, secret, uris = b.get("app_id"), b.get("app_secret"), b.get("redirect_uris") or []
    if not isinstance(app_id, str) or not app_id:
        raise ValueError("app_id is required")
    if not isinstance(uris, list) or not all(isinstance(u, str) and _uri_key(u) for u in uris):
        raise ValueError("redirect_uris must be a list of absolute http(s) URLs")
    st = sb.state
    with st.lock:
        if app_id == st.app_id:
            if secret not in (None, "", st.app_secret):
                raise ValueError("the Hire app's secret is the server's; leave app_secret out")
            secret = st.app_secret
        elif not isinstance(secret, str) or not secret:
            raise ValueError("app_secret is required")
        app = {"app_id": app_id, "app_secret": secret, "redirect_uris": list(uris)}
        st.login_apps[app_id] = app
        return _public(st, app)


def list_login_apps(sb, call):
    with sb.state.lock:
        return [_public(sb.state, app) for app in sb.state.login_apps.values()]


def expire_codes(sb, call):
    with sb.state.lock:
        past = sb.state.clock.time() - 1
        for code in sb.state.login_codes.values():
            code.expires_at = min(code.expires_at, past)
        return {"expired": len(sb.state.login_codes)}


CONTROL_ROUTES = [
    ("POST", "/_sandbox/login_apps", register_login_app, {"kind": "control"}),
    ("GET", "/_sandbox/login_apps", list_login_apps, {"kind": "control"}),
    ("POST", "/_sandbox/login/expire_codes", expire_codes, {"kind": "control"}),
]
