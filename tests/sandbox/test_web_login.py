"""Web login (docs/feishu.md §16) over raw HTTP, shaped as django-allauth 65.21.1's Feishu provider
sends it: authorize page, form-encoded app token with a trailing slash, code exchange with the
app token in the body, user_info."""

import json
import re
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from tests.sandbox_fixtures import LOGIN_CALLBACK

from .helpers import AUTH, creds

INDEX = "/open-apis/authen/v1/index"
AUTHORIZE = "/open-apis/authen/v1/authorize"
ACCESS_TOKEN = "/open-apis/authen/v1/access_token"
USER_INFO = "/open-apis/authen/v1/user_info"
TOKEN_V2 = "/open-apis/authen/v2/oauth/token"
OTHER_APP = {"app_id": "cli_login_other", "app_secret": "other-secret"}
OTHER_CALLBACK = "https://staff.example.com/accounts/feishu/login/callback/"
BUTTON = re.compile(r'<button type="submit" name="open_id" value="([^"]+)"[^>]*data-tenant-key="([^"]+)"')


def authorize(
    sandbox, path=INDEX, app_id=None, redirect_uri=LOGIN_CALLBACK, state="s1Xy9Qa7bC3dE5fG", **extra
):
    # allauth's query: sorted app_id, redirect_uri, response_type, scope (empty), state.
    params = {
        "app_id": app_id or settings.FEISHU_APP_ID,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "",
        "state": state,
        **extra,
    }
    return requests.get(sandbox.url + path, params=params, allow_redirects=False, timeout=10)


def choose(sandbox, open_id, path=INDEX, app_id=None, redirect_uri=LOGIN_CALLBACK, state="s1Xy9Qa7bC3dE5fG"):
    """What the page's form sends when a person clicks an employee (POST, form-encoded)."""
    form = {
        "app_id": app_id or settings.FEISHU_APP_ID,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "",
        "state": state,
        "open_id": open_id,
    }
    return requests.post(sandbox.url + path, data=form, allow_redirects=False, timeout=10)


def code_of(resp) -> str:
    assert resp.status_code == 302, resp.text
    return parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]


def app_token(sandbox, app=None) -> str:
    app = app or creds()
    # allauth: trailing slash, form-encoded.
    resp = requests.post(sandbox.url + AUTH + "/app_access_token/internal/", data=app, timeout=10)
    assert resp.status_code == 200 and resp.json()["code"] == 0, resp.text
    return resp.json()["app_access_token"]


def exchange(sandbox, code, token):
    body = {"grant_type": "authorization_code", "code": code, "app_access_token": token}
    return requests.post(sandbox.url + ACCESS_TOKEN, json=body, timeout=10)


def info(sandbox, user_token):
    return requests.get(
        sandbox.url + USER_INFO,
        headers={"Authorization": f"Bearer {user_token}", "Content-Type": "application/json"},
        timeout=10,
    )


def login(sandbox, open_id, app=None, redirect_uri=LOGIN_CALLBACK) -> dict:
    app_id = (app or {}).get("app_id")
    code = code_of(choose(sandbox, open_id, app_id=app_id, redirect_uri=redirect_uri))
    answer = exchange(sandbox, code, app_token(sandbox, app)).json()
    assert answer["code"] == 0, answer
    resp = info(sandbox, answer["data"]["access_token"])
    assert resp.status_code == 200 and resp.json()["code"] == 0, resp.text
    return resp.json()["data"]


def test_the_allauth_flow_signs_an_employee_in(sandbox):
    page = authorize(sandbox)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in page.text and "选择登录的员工" in page.text
    choices = dict(BUTTON.findall(page.text))
    assert choices["ou_demo1001"] == "demo-tenant" and choices["ou_acme2001"] == "acme-tenant"
    assert page.text.count('data-open-id="ou_demo1001"') == 1 and ">王芳</button>" in page.text
    assert 'name="state" value="s1Xy9Qa7bC3dE5fG"' in page.text  # the form carries it back

    chosen = choose(sandbox, "ou_demo1001")
    location = urlsplit(chosen.headers["Location"])
    assert chosen.status_code == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == LOGIN_CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["s1Xy9Qa7bC3dE5fG"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", query["code"][0])

    token = app_token(sandbox)
    answer = exchange(sandbox, query["code"][0], token)
    assert answer.status_code == 200
    body = answer.json()
    assert body["code"] == 0 and body["msg"] == "success"
    data = body["data"]
    assert data["access_token"].startswith("u-") and data["token_type"] == "Bearer"
    assert data["expires_in"] == 7140 and data["refresh_token"] and data["refresh_expires_in"] > 0
    assert data["open_id"] == "ou_demo1001" and data["name"] == "王芳" and data["sid"]

    user = info(sandbox, data["access_token"]).json()
    assert user["code"] == 0 and user["msg"] == "success"
    assert user["data"] == {
        "name": "王芳",
        "en_name": "Fang Wang",
        "avatar_url": user["data"]["avatar_url"],
        "avatar_thumb": user["data"]["avatar_thumb"],
        "avatar_middle": user["data"]["avatar_middle"],
        "avatar_big": user["data"]["avatar_big"],
        "open_id": "ou_demo1001",
        "union_id": "on_demo1001",
        "tenant_key": "demo-tenant",
        "user_id": "u1001",
        "email": "fang.wang@demo.example",
        "mobile": "+8613800001001",
        "enterprise_email": "fang.wang@demo.example.com",
    }
    assert user["data"]["avatar_big"].startswith("https://")


def test_a_link_with_the_open_id_works_as_the_form_does(sandbox):
    resp = authorize(sandbox, open_id="ou_demo1002")
    assert resp.status_code == 302 and "code=" in resp.headers["Location"]


def test_cancel_answers_access_denied_with_the_state(sandbox):
    assert 'id="cancel"' in authorize(sandbox).text
    form = {"app_id": settings.FEISHU_APP_ID, "redirect_uri": LOGIN_CALLBACK, "state": "st", "cancel": "1"}
    resp = requests.post(sandbox.url + INDEX, data=form, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    assert resp.headers["Location"] == LOGIN_CALLBACK + "?error=access_denied&state=st"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example/accounts/feishu/login/callback/",
        "http://testserver/accounts/feishu/login/callback/other/",  # only the path differs
        "http://testserver/accounts/feishu/login/callback",  # no trailing slash: another path
        "https://testserver/accounts/feishu/login/callback/",  # another scheme
        "",
    ],
)
def test_an_unregistered_redirect_uri_gets_the_20029_page_and_no_redirect(sandbox, redirect_uri):
    resp = authorize(sandbox, redirect_uri=redirect_uri)
    assert resp.status_code == 200 and "Location" not in resp.headers
    assert '<span id="error-code">20029</span>' in resp.text and "redirect_uri 请求不合法" in resp.text
    # Choosing someone anyway gives no code either.
    assert choose(sandbox, "ou_demo1001", redirect_uri=redirect_uri).status_code == 200


def test_an_unknown_app_id_gets_the_20029_page(sandbox):
    resp = authorize(sandbox, app_id="cli_nobody")
    assert resp.status_code == 200 and "20029" in resp.text and "Location" not in resp.headers


def test_a_query_and_a_fragment_on_the_redirect_uri_are_ignored_and_kept(sandbox):
    resp = choose(sandbox, "ou_demo1001", redirect_uri=LOGIN_CALLBACK + "?x=1#top")
    location = resp.headers["Location"]
    assert location.startswith(LOGIN_CALLBACK + "?x=1&code=") and location.endswith(
        "&state=s1Xy9Qa7bC3dE5fG#top"
    )


def test_a_reused_code_gets_20003(sandbox):
    code = code_of(choose(sandbox, "ou_demo1001"))
    token = app_token(sandbox)
    assert exchange(sandbox, code, token).json()["code"] == 0
    again = exchange(sandbox, code, token)
    assert again.status_code == 200 and again.json()["code"] == 20003 and "data" not in again.json()
    assert exchange(sandbox, "no-such-code", token).json()["code"] == 20003


def test_an_expired_code_gets_20003(sandbox):
    code = code_of(choose(sandbox, "ou_demo1001"))
    assert sandbox.expire_login_codes() == {"expired": 1}
    assert exchange(sandbox, code, app_token(sandbox)).json()["code"] == 20003


def test_a_code_lives_five_minutes_on_the_sandbox_clock(sandbox):
    code = code_of(choose(sandbox, "ou_demo1001"))
    sandbox.advance_clock(301)
    assert exchange(sandbox, code, app_token(sandbox)).json()["code"] == 20003


def test_a_wrong_app_token_gets_20014_and_the_header_also_carries_it(sandbox):
    code = code_of(choose(sandbox, "ou_demo1001"))
    resp = exchange(sandbox, code, "a-not-a-token")
    assert resp.status_code == 200 and resp.json() == {
        "code": 20014,
        "msg": "The app access token passed is invalid. Please check the value",
    }
    # A tenant token is no app token.
    tenant = requests.post(sandbox.url + AUTH + "/tenant_access_token/internal", json=creds(), timeout=10)
    assert exchange(sandbox, code, tenant.json()["tenant_access_token"]).json()["code"] == 20014
    # The SDK's way: the app token in Authorization, not in the body.
    resp = requests.post(
        sandbox.url + ACCESS_TOKEN,
        json={"grant_type": "authorization_code", "code": code},
        headers={"Authorization": f"Bearer {app_token(sandbox)}"},
        timeout=10,
    )
    assert resp.json()["code"] == 0


def test_a_bad_user_token_gets_20005(sandbox):
    resp = info(sandbox, "u-nonsense")
    assert resp.status_code == 200 and resp.json() == {
        "code": 20005,
        "msg": "The user access token passed is invalid. Please check the value",
    }
    assert requests.get(sandbox.url + USER_INFO, timeout=10).json()["code"] == 20005
    # An app token is no user token; an expired user token is refused too.
    assert info(sandbox, app_token(sandbox)).json()["code"] == 20005
    code = code_of(choose(sandbox, "ou_demo1001"))
    user_token = exchange(sandbox, code, app_token(sandbox)).json()["data"]["access_token"]
    sandbox.expire_tokens()
    assert info(sandbox, user_token).json()["code"] == 20005


def test_a_code_of_app_a_exchanged_with_app_bs_token_gets_20024(sandbox):
    sandbox.register_login_app(OTHER_APP["app_id"], OTHER_APP["app_secret"], [OTHER_CALLBACK])
    code = code_of(choose(sandbox, "ou_demo1001"))  # issued to the Hire app
    other = app_token(sandbox, OTHER_APP)
    assert exchange(sandbox, code, other).json()["code"] == 20024
    assert exchange(sandbox, code, app_token(sandbox)).json()["code"] == 0  # still good for its app


def test_open_id_is_per_app_and_union_id_shared(sandbox):
    sandbox.register_login_app(OTHER_APP["app_id"], OTHER_APP["app_secret"], [OTHER_CALLBACK])
    in_hire_app = login(sandbox, "ou_demo1001")
    page = authorize(sandbox, app_id=OTHER_APP["app_id"], redirect_uri=OTHER_CALLBACK)
    other_open_id = next(o for o, _ in BUTTON.findall(page.text) if o not in ("ou_demo1001",))
    assert re.fullmatch(r"ou_[0-9a-f]{32}", other_open_id)
    in_other_app = login(sandbox, "ou_demo1001", OTHER_APP, OTHER_CALLBACK)  # the directory's id works too
    assert in_other_app["open_id"] != in_hire_app["open_id"] and in_other_app["open_id"].startswith("ou_")
    assert in_other_app["union_id"] == in_hire_app["union_id"] == "on_demo1001"
    assert f'value="{in_other_app["open_id"]}"' in page.text  # the page shows the app's open_id
    assert (
        login(sandbox, in_other_app["open_id"], OTHER_APP, OTHER_CALLBACK)["open_id"]
        == in_other_app["open_id"]
    )


def test_another_tenants_employee_gets_through_with_that_tenant_key(sandbox):
    user = login(sandbox, "ou_acme2001")
    assert user["tenant_key"] == "acme-tenant" and user["name"] == "孙丽"
    assert user["enterprise_email"] == "li.sun@acme.example.com"


def test_an_added_employee_can_sign_in_with_a_company_mailbox(sandbox):
    emp = sandbox.add_employee("新人", enterprise_email="new.hire@demo.example.com", tenant_key="demo-tenant")
    user = login(sandbox, emp["open_id"])
    assert user["enterprise_email"] == "new.hire@demo.example.com" and "email" not in user


def test_the_app_token_call_takes_form_and_json_with_or_without_slash(sandbox):
    for path in ("/app_access_token/internal", "/app_access_token/internal/"):
        for kw in ({"data": creds()}, {"json": creds()}):
            body = requests.post(sandbox.url + AUTH + path, timeout=10, **kw).json()
            assert body["code"] == 0 and body["app_access_token"] and 7190 <= body["expire"] <= 7200
            assert body["tenant_access_token"].startswith("t-")
    wrong = requests.post(
        sandbox.url + AUTH + "/app_access_token/internal/", data=creds(app_secret="x"), timeout=10
    )
    assert wrong.json()["code"] == 10015 and "app_access_token" not in wrong.json()
    # A login app's token is its own.
    sandbox.register_login_app(OTHER_APP["app_id"], OTHER_APP["app_secret"], [OTHER_CALLBACK])
    assert app_token(sandbox, OTHER_APP) != app_token(sandbox)


def test_the_new_authorize_page_with_client_id(sandbox):
    sandbox.register_login_app(OTHER_APP["app_id"], OTHER_APP["app_secret"], [OTHER_CALLBACK])
    params = {"client_id": OTHER_APP["app_id"], "redirect_uri": OTHER_CALLBACK, "response_type": "code"}
    page = requests.get(sandbox.url + AUTHORIZE, params={**params, "state": "n1"}, timeout=10)
    assert page.status_code == 200 and f'action="{AUTHORIZE}"' in page.text
    resp = requests.post(
        sandbox.url + AUTHORIZE,
        data={**params, "state": "n1", "open_id": "ou_demo1003"},
        allow_redirects=False,
        timeout=10,
    )
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["state"] == ["n1"]
    user = exchange(sandbox, code_of(resp), app_token(sandbox, OTHER_APP)).json()["data"]
    assert user["union_id"] == "on_demo1003"
    # No state sent: none comes back.
    resp = requests.get(
        sandbox.url + AUTHORIZE,
        params={**params, "open_id": "ou_demo1003"},
        allow_redirects=False,
        timeout=10,
    )
    assert "state" not in parse_qs(urlsplit(resp.headers["Location"]).query)


def test_the_v2_token_endpoint(sandbox):
    sandbox.register_login_app(OTHER_APP["app_id"], OTHER_APP["app_secret"], [OTHER_CALLBACK])
    params = {"client_id": OTHER_APP["app_id"], "redirect_uri": OTHER_CALLBACK, "response_type": "code"}
    get = lambda **q: requests.get(  # noqa: E731
        sandbox.url + AUTHORIZE,
        params={**params, **q, "open_id": "ou_demo1001"},
        allow_redirects=False,
        timeout=10,
    )
    body = {
        "grant_type": "authorization_code",
        "client_id": OTHER_APP["app_id"],
        "client_secret": "other-secret",
    }
    code = code_of(get(scope="offline_access"))
    resp = requests.post(
        sandbox.url + TOKEN_V2, json={**body, "code": code, "scope": "offline_access"}, timeout=10
    )
    assert resp.status_code == 200, resp.text
    token = resp.json()
    assert (
        token["code"] == 0
        and "data" not in token
        and token["token_type"] == "Bearer"
        and token["refresh_token"]
    )
    assert info(sandbox, token["access_token"]).json()["data"]["union_id"] == "on_demo1001"
    again = requests.post(sandbox.url + TOKEN_V2, json={**body, "code": code}, timeout=10)
    assert (
        again.status_code == 400
        and again.json()["code"] == 20065
        and again.json()["error"] == "invalid_grant"
    )
    wrong_uri = {**body, "code": code_of(get()), "redirect_uri": OTHER_CALLBACK + "x"}
    assert requests.post(sandbox.url + TOKEN_V2, json=wrong_uri, timeout=10).json()["code"] == 20071
    bad_secret = {**body, "client_secret": "nope", "code": code_of(get())}
    assert requests.post(sandbox.url + TOKEN_V2, json=bad_secret, timeout=10).json()["code"] == 20002


def test_the_login_calls_are_logged_without_secrets_and_faults_apply(sandbox):
    code = code_of(choose(sandbox, "ou_demo1001"))
    token = app_token(sandbox)
    user_token = exchange(sandbox, code, token).json()["data"]["access_token"]
    info(sandbox, user_token)
    [app_call] = sandbox.requests(AUTH + "/app_access_token/internal/")
    assert (
        app_call["form"] == {"app_id": settings.FEISHU_APP_ID, "app_secret": "***"}
        and app_call["json"] is None
    )
    [exchanged] = sandbox.requests(ACCESS_TOKEN)
    assert exchanged["json"] == {"grant_type": "authorization_code", "code": code, "app_access_token": "***"}
    [asked] = sandbox.requests(USER_INFO)
    assert asked["headers"]["Authorization"] == "Bearer ***"
    assert sandbox.requests(INDEX)[0]["form"]["open_id"] == "ou_demo1001"
    assert user_token not in json.dumps(sandbox.requests())

    sandbox.add_fault(USER_INFO, "error", status=500, code=20050, msg="system error")
    resp = info(sandbox, user_token)
    assert resp.status_code == 500 and resp.json()["code"] == 20050
    sandbox.add_fault(INDEX, "5xx", status=502)
    assert authorize(sandbox).status_code == 502


def test_reset_restores_the_login_apps(sandbox):
    sandbox.register_login_app(OTHER_APP["app_id"], OTHER_APP["app_secret"], [OTHER_CALLBACK])
    sandbox.register_login_app(settings.FEISHU_APP_ID, redirect_uris=[OTHER_CALLBACK])
    apps = {a["app_id"]: a for a in sandbox.login_apps()}
    assert apps[settings.FEISHU_APP_ID]["redirect_uris"] == [OTHER_CALLBACK]
    assert apps[OTHER_APP["app_id"]] == {
        "app_id": "cli_login_other",
        "redirect_uris": [OTHER_CALLBACK],
        "hire_app": False,
    }
    sandbox.reset()
    assert sandbox.login_apps() == [
        {"app_id": settings.FEISHU_APP_ID, "redirect_uris": [LOGIN_CALLBACK], "hire_app": True}
    ]


def test_registering_checks_its_input(sandbox):
    from sandbox.control import SandboxError

    with pytest.raises(SandboxError, match="app_secret is required"):
        sandbox.register_login_app("cli_x", None, [OTHER_CALLBACK])
    with pytest.raises(SandboxError, match="absolute"):
        sandbox.register_login_app("cli_x", "s", ["/relative/"])
    with pytest.raises(SandboxError, match="Hire app's secret"):
        sandbox.register_login_app(settings.FEISHU_APP_ID, "another-secret", [OTHER_CALLBACK])


def test_ctl_login_apps(sandbox):
    def ctl(*args):
        out = StringIO()
        call_command("feishu_sandbox_ctl", "--url", sandbox.url, *args, stdout=out)
        return json.loads(out.getvalue())

    added = ctl("register-login-app", "cli_ctl", "--secret", "s", "--redirect-uri", OTHER_CALLBACK)
    assert added == {"app_id": "cli_ctl", "redirect_uris": [OTHER_CALLBACK], "hire_app": False}
    assert [a["app_id"] for a in ctl("login-apps")] == [settings.FEISHU_APP_ID, "cli_ctl"]
    assert ctl("expire-login-codes") == {"expired": 0}
