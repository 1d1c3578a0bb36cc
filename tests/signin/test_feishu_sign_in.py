"""Signing in with Feishu (hireops.signin on django-allauth's Feishu provider) against the
sandbox over real HTTP: who gets in as whom, and who is refused with a clear page and a log
line that names nobody."""

import logging
from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from hireops.signin.models import FeishuInvitation
from tests.conftest import STAFF_PASSWORD
from tests.feishu_login import LI_NA, SUN_LI, WANG_FANG, point_feishu_login_at_the_sandbox, wang_fang_as_staff
from tests.ops.test_metrics import Counted

pytestmark = pytest.mark.django_db


@pytest.fixture
def feishu(sandbox, settings):
    """Sign-in with Feishu set up for the sandbox's demo company, with the Hire app as the
    login app (a self-built app)."""
    # allauth builds the redirect URI with ACCOUNT_DEFAULT_HTTP_PROTOCOL: https off DEBUG.
    point_feishu_login_at_the_sandbox(sandbox, settings, "https://testserver")
    return sandbox


@pytest.fixture
def fang(staff_user):
    """HR staff whose email is 王芳's Feishu company mailbox: linked on her first sign-in."""
    return wang_fang_as_staff(staff_user, "HR")


def choose(authorize_url: str, open_id: str) -> str:
    """The employee picks themself on Feishu's authorize page; the callback URL it sends back."""
    resp = requests.post(authorize_url, data={"open_id": open_id}, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text[:500]
    return resp.headers["Location"]


def start(client, next_url="/admin/") -> str:
    resp = client.post(f"/accounts/feishu/login/?process=login&next={next_url}")
    assert resp.status_code == 302, resp.content[:500]
    return resp["Location"]


def sign_in(client, open_id: str):
    """The whole round trip; the response to the callback."""
    callback = urlsplit(choose(start(client), open_id))
    return client.get(f"{callback.path}?{callback.query}")


def signins(method: str, *outcomes: str) -> Counted:
    """``hireops_signins_total`` for these outcomes, counted from now."""
    return Counted(*(("hireops_signins_total", {"method": method, "outcome": o}) for o in outcomes))


def signed_in_as(client):
    return client.get("/admin/").wsgi_request.user


def test_the_login_page_offers_feishu_beside_the_password(client, feishu):
    page = client.get("/admin/login/").content.decode()
    assert "使用飞书登录 / Sign in with Feishu" in page and 'id="login-form"' in page


def test_a_staff_member_is_linked_by_company_email_then_signs_in_as_themself(client, feishu, staff_user):
    vendor = staff_user("Vendor operations", username="fang")  # a role with no second factor
    vendor.email = "Fang.Wang@demo.example.com"
    vendor.save()
    resp = sign_in(client, WANG_FANG)
    assert resp.status_code == 302 and resp["Location"] == "/admin/"
    assert signed_in_as(client) == vendor
    account = SocialAccount.objects.get(user=vendor, provider="feishu")
    assert account.uid == WANG_FANG and account.extra_data["tenant_key"] == "demo-tenant"
    # What Feishu told about them that hireops has no use for is not kept.
    assert not {"email", "enterprise_email", "mobile"} & set(account.extra_data)

    client.logout()
    vendor.email = ""  # linked now: the email no longer matters
    vendor.save()
    assert sign_in(client, WANG_FANG).status_code == 302 and signed_in_as(client) == vendor
    # Roles stay as they are: Vendor operations see the vendor's part, not HR's.
    assert client.get("/admin/bindings/customfielddefinition/").status_code == 200
    assert client.get("/admin/referrals/referralaccount/").status_code == 403


@pytest.mark.parametrize(
    ("open_id", "reason"),
    [(LI_NA, "unknown_user"), (SUN_LI, "other_tenant")],
)
def test_unknown_and_foreign_feishu_users_are_refused_without_personal_data_in_the_log(
    client, feishu, staff_user, caplog, open_id, reason
):
    staff_user("HR", username="someone")  # exists, but is nobody's Feishu identity
    counted = signins("feishu", reason, "signed_in")
    with caplog.at_level(logging.INFO, logger="hireops.signin"):
        resp = sign_in(client, open_id)
    assert resp.status_code == 403
    assert f'data-reason="{reason}"' in resp.content.decode()
    assert not signed_in_as(client).is_authenticated
    assert SocialAccount.objects.count() == 0
    assert counted.delta() == [1, 0]  # operators see refusals by reason
    logged = caplog.text
    assert f"sign-in refused: {reason}" in logged
    for personal in ("na.li", "li.sun", "李娜", "孙丽", open_id):
        assert personal not in logged


def test_a_deactivated_staff_user_is_refused(client, feishu, fang):
    hr = fang
    assert sign_in(client, WANG_FANG).status_code == 302
    client.logout()
    hr.is_active = False
    hr.save()
    resp = sign_in(client, WANG_FANG)
    assert resp.status_code == 403 and 'data-reason="inactive"' in resp.content.decode()
    assert not signed_in_as(client).is_authenticated


def invite(admin_client, user, feishu_person: str) -> str:
    """The admin's action "Invite to sign in with Feishu…" for ``user``, naming their Feishu
    account; the invitation link's path."""
    chosen = {"action": "invite_to_feishu", "_selected_action": [user.pk]}
    form = admin_client.post("/admin/auth/user/", chosen)
    assert form.status_code == 200 and 'name="feishu_person"' in form.content.decode()
    resp = admin_client.post(
        "/admin/auth/user/", {**chosen, "apply": "1", "feishu_person": feishu_person}, follow=True
    )
    link = next(str(m) for m in resp.context["messages"] if "/accounts/feishu/invitation/" in str(m))
    return urlsplit(link.rsplit(" ", 1)[-1]).path


def test_an_invitation_links_the_feishu_identity_once(client, feishu, staff_user, admin_client):
    hr = staff_user("HR", username="na")  # no email: only an invitation can link them
    path = invite(admin_client, hr, "na.li@demo.example.com")  # 李娜's company mailbox
    assert "Link your Feishu account" in client.get(path).content.decode()
    callback = urlsplit(choose(start(client), LI_NA))
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    assert signed_in_as(client) == hr and SocialAccount.objects.get(user=hr).uid == LI_NA
    assert FeishuInvitation.objects.get(user=hr).used_at is not None
    # The change history says who invited whom.
    history = admin_client.get(f"/admin/auth/user/{hr.pk}/history/").content.decode()
    assert "Added a Feishu sign-in invitation" in history

    client.logout()
    page = client.get(path)
    assert page.status_code == 404 and 'data-reason="invitation_invalid"' in page.content.decode()


def test_a_code_cannot_be_used_twice(client, feishu, fang):
    callback = urlsplit(choose(start(client), WANG_FANG))
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    client.logout()
    # The same callback again (a replayed or leaked URL): allauth's state is spent and the
    # sandbox would answer 20003 for the used code. Nobody is signed in.
    replay = client.get(f"{callback.path}?{callback.query}")
    assert replay.status_code in (400, 403) and not signed_in_as(client).is_authenticated
    exchanges = [r for r in feishu.requests(path="/open-apis/authen/v1/access_token")]
    assert len(exchanges) == 1  # the replay never reached Feishu with the code


def test_a_used_code_is_refused_by_feishu_and_the_page_says_so(client, feishu, fang, caplog):
    """The code itself replayed with a fresh state: Feishu refuses it (20003) and the person
    sees a clear page; the log has the error's type only."""
    counted = signins("feishu", "signed_in", "feishu_error")
    first = urlsplit(choose(start(client), WANG_FANG))
    assert client.get(f"{first.path}?{first.query}").status_code == 302
    client.logout()
    code = dict(p.split("=", 1) for p in first.query.split("&"))["code"]
    second = urlsplit(start(client))  # a new state in this session
    state = dict(p.split("=", 1) for p in second.query.split("&"))["state"]
    with caplog.at_level(logging.INFO, logger="hireops.signin"):
        resp = client.get(f"{first.path}?code={code}&state={state}")
    assert resp.status_code == 400 and 'data-reason="feishu_error"' in resp.content.decode()
    assert not signed_in_as(client).is_authenticated
    assert code not in caplog.text
    assert "sign-in refused: feishu_error" in caplog.text
    assert counted.delta() == [1, 1]


def test_password_sign_in_can_be_turned_off_for_all_but_the_break_glass_superuser(
    client, settings, staff_user, django_user_model
):
    settings.PASSWORD_LOGIN = False
    settings.PASSWORD_LOGIN_BREAK_GLASS = ["root"]
    staff_user("HR", username="hr")
    counted = signins("password", "password_off", "signed_in")
    resp = client.post("/admin/login/", {"username": "hr", "password": STAFF_PASSWORD})
    assert resp.status_code == 200 and "Sign-in with a password is turned off" in resp.content.decode()
    assert not signed_in_as(client).is_authenticated
    django_user_model.objects.create_superuser("other-admin", password=STAFF_PASSWORD)
    resp = client.post("/admin/login/", {"username": "other-admin", "password": STAFF_PASSWORD})
    assert "Sign-in with a password is turned off" in resp.content.decode()

    root = django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD)
    resp = client.post("/admin/login/", {"username": "root", "password": STAFF_PASSWORD})
    assert resp.status_code == 302
    assert client.get("/admin/").wsgi_request.user == root  # then the second factor's steps
    assert counted.delta() == [2, 1]


def test_nobody_signs_up_through_allauth(client):
    assert client.get("/accounts/login/")["Location"].startswith("/admin/login/")
    resp = client.post(
        "/accounts/signup/", {"username": "x", "password1": "Pw-123456!x", "password2": "Pw-123456!x"}
    )
    assert get_user_model().objects.filter(username="x").count() == 0
    assert resp.status_code == 404  # allauth's sign-up page is not even mounted
