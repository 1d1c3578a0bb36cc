"""Raw-HTTP helpers for the sandbox tests (no product client involved)."""

import requests
from django.conf import settings

AUTH = "/open-apis/auth/v3"
HIRE = "/open-apis/hire/v1"
FIELDS = HIRE + "/eco_account_custom_fields"
REFERRAL = HIRE + "/referral_account"
ASSETS = REFERRAL + "/get_account_assets"


def creds(**extra) -> dict:
    return {"app_id": settings.FEISHU_APP_ID, "app_secret": settings.FEISHU_APP_SECRET, **extra}


def post(sandbox, path, json=None, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(sandbox.url + path, json=json, headers=headers, timeout=10, **kw)


def call(sandbox, method, path, token, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, sandbox.url + path, headers=headers, timeout=10, **kw)


def tenant_token(sandbox) -> str:
    resp = post(sandbox, AUTH + "/tenant_access_token/internal", creds())
    assert resp.status_code == 200, resp.text
    return resp.json()["tenant_access_token"]


def store_tenant_token(sandbox, tenant_key: str) -> str:
    """The store-app flow: ticket (read from sandbox state) -> app token -> tenant token."""
    assert post(sandbox, AUTH + "/app_ticket/resend", creds()).json()["code"] == 0
    ticket = sandbox.state()["tickets"][-1]["app_ticket"]
    app = post(sandbox, AUTH + "/app_access_token", creds(app_ticket=ticket)).json()
    resp = post(
        sandbox,
        AUTH + "/tenant_access_token",
        {"app_access_token": app["app_access_token"], "tenant_key": tenant_key},
    ).json()
    assert resp["code"] == 0, resp
    return resp["tenant_access_token"]


def create_account(sandbox, token, **body) -> dict:
    resp = post(sandbox, REFERRAL, body, token)
    assert resp.status_code == 200 and resp.json()["code"] == 0, resp.text
    return resp.json()["data"]["account"]


def field(key, zh="字段", en="Field", required=True, **extra) -> dict:
    return {"key": key, "name": {"zh_cn": zh, "en_us": en}, "is_required": required, **extra}
