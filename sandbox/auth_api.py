"""Auth endpoints (docs/feishu.md §1): self-built and store-app token flows.

Answers put fields at the top level (``{"code","msg","tenant_access_token","expire"}``),
not in ``data``. CHOICE: failed token calls answer HTTP 400 (the docs give
codes, not statuses). CHOICE: the sandbox has one app that may use both flows;
self-built tokens belong to the directory's default tenant.

``app_access_token/internal`` also serves the web login's apps (login_api.py): any app
registered for login gets tokens of its own, and the call is accepted with a trailing slash
and a form-encoded body, which is how django-allauth's Feishu provider sends it (docs/feishu.md §16).
"""

from .state import ApiError

OK = {"code": 0, "msg": "ok"}


def _check_app(sb, body: dict, login_apps: bool = False) -> str:
    """The app_id, once its secret is right. ``login_apps``: any app registered for web login
    counts too, not only the Hire app."""
    app_id, secret = body.get("app_id"), body.get("app_secret")
    if not app_id or not secret:
        # CHOICE: 10003 ("invalid param") is Feishu's usual answer; it is not in docs/feishu.md.
        raise ApiError(10003, "invalid param: app_id and app_secret are required")
    with sb.state.lock:
        known = sb.state.login_apps.get(app_id) if login_apps else None
        expected = known["app_secret"] if known else sb.state.app_secret
    if app_id != sb.state.app_id and known is None:
        raise ApiError(99991543, "app_id or app_secret does not exist")
    if secret != expected:
        raise ApiError(10015, "app_secret is wrong")
    return app_id


def tenant_token_internal(sb, call):
    _check_app(sb, call.body)
    token, expire = sb.state.issue_token("tenant", sb.state.default_tenant)
    return 200, {**OK, "tenant_access_token": token, "expire": expire}


def app_token_internal(sb, call):
    app_id = _check_app(sb, call.body, login_apps=True)
    app_token, expire = sb.state.issue_token("app", None, app_id)
    tenant_token, _ = sb.state.issue_token("tenant", sb.state.default_tenant, app_id)
    return 200, {**OK, "app_access_token": app_token, "expire": expire, "tenant_access_token": tenant_token}


def app_ticket_resend(sb, call):
    _check_app(sb, call.body)
    sb.push_app_ticket(delay=sb.pusher.config.ticket_resend_delay)  # not at once, as Feishu
    return 200, dict(OK)


def app_token_store(sb, call):
    _check_app(sb, call.body)
    if not sb.state.ticket_valid(call.body.get("app_ticket")):
        # The Go SDK answers 10012 by calling app_ticket/resend (docs/feishu.md §1.2).
        raise ApiError(10012, "app_ticket is invalid or expired")
    token, expire = sb.state.issue_token("app", None)
    return 200, {**OK, "app_access_token": token, "expire": expire}


def tenant_token_store(sb, call):
    app_token, tenant_key = call.body.get("app_access_token"), call.body.get("tenant_key")
    if not app_token or not tenant_key:
        raise ApiError(10003, "invalid param: app_access_token and tenant_key are required")
    info = sb.state.token_info(app_token)
    if info is None or info.kind != "app":
        raise ApiError(99991664, "invalid app_access_token")
    if tenant_key not in sb.state.tenants:
        # CHOICE: 10013 "failed to get tenant token" for a tenant that never installed the app.
        raise ApiError(10013, f"tenant {tenant_key!r} has not installed this app")
    token, expire = sb.state.issue_token("tenant", tenant_key)
    return 200, {**OK, "tenant_access_token": token, "expire": expire}


_P = "/open-apis/auth/v3"
ROUTES = [
    ("POST", _P + "/tenant_access_token/internal", tenant_token_internal, {"kind": "auth"}),
    # allauth: trailing slash, form-encoded (UNCONFIRMED that live Feishu takes either, §16).
    ("POST", _P + "/app_access_token/internal/?", app_token_internal, {"kind": "auth", "form": True}),
    ("POST", _P + "/app_ticket/resend", app_ticket_resend, {"kind": "auth"}),
    ("POST", _P + "/app_access_token", app_token_store, {"kind": "auth"}),
    ("POST", _P + "/tenant_access_token", tenant_token_store, {"kind": "auth"}),
]


def authenticate(sb, headers) -> str:
    """The tenant a hire call acts for. CHOICE: these rejections answer HTTP 400."""
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme != "Bearer" or not token:
        raise ApiError(
            99991661, "Missing access token for authorization. Please make a request with token attached."
        )
    if not token.startswith("t-"):
        raise ApiError(99991671, "Invalid token format: a tenant_access_token must start with 't-'.")
    info = sb.state.token_info(token)
    if info is None or info.kind != "tenant":
        raise ApiError(
            99991663, "Invalid access token for authorization. Please make a request with token attached."
        )
    return info.tenant_key
