"""An invitation to sign in with Feishu links only the Feishu account it names, and its token
never reaches a log. Tried over HTTP against the sandbox: a colleague who opens someone else's
link is refused, links nothing and leaves the invitation to its person."""

import logging
from urllib.parse import urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from hireops.signin.models import FeishuInvitation, digest
from tests.feishu_login import LI_NA, WANG_FANG, wang_fang_as_staff

from .test_feishu_sign_in import choose, feishu, invite, signed_in_as, start  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def through(client, link_path: str, open_id: str):
    """Open the invitation link and sign in with Feishu as ``open_id``; the callback's answer."""
    assert client.get(link_path).status_code == 200
    callback = urlsplit(choose(start(client), open_id))
    return client.get(f"{callback.path}?{callback.query}")


@pytest.mark.parametrize("named_by", ["na.li@demo.example.com", "NA.LI@demo.example.com ", "u1002"])
@pytest.mark.usefixtures("feishu")
def test_an_invitation_links_only_the_feishu_account_it_names(
    client, staff_user, admin_client, caplog, named_by
):
    na = staff_user("Vendor operations", username="na")  # no email: only an invitation links her
    path = invite(admin_client, na, named_by)  # 李娜's company mailbox, or her Feishu user ID
    token = path.rstrip("/").rsplit("/", 1)[-1]

    # An HR colleague opens the link first, signed in to Feishu as herself (王芳).
    with caplog.at_level(logging.DEBUG):
        resp = through(client, path, WANG_FANG)
    assert resp.status_code == 403 and 'data-reason="invitation_other_person"' in resp.content.decode()
    assert not signed_in_as(client).is_authenticated
    assert not SocialAccount.objects.exists()
    assert FeishuInvitation.objects.get(user=na).used_at is None  # still hers
    assert "sign-in refused: invitation_other_person" in caplog.text
    for secret in (token, WANG_FANG, "fang.wang", "王芳", "na.li", "u1002"):
        assert secret not in caplog.text

    # 李娜 herself.
    client.logout()
    resp = through(client, path, LI_NA)
    assert resp.status_code == 302 and signed_in_as(client) == na
    assert SocialAccount.objects.get(user=na).uid == LI_NA
    assert FeishuInvitation.objects.get(user=na).used_at is not None


@pytest.mark.usefixtures("feishu")
def test_an_invitation_is_refused_to_an_identity_feishu_does_not_describe(client, staff_user, admin_client):
    """The login app may lack the permission for the field the invitation names (user_info
    leaves it out): that is no match either."""
    na = staff_user("HR", username="na")
    path = invite(admin_client, na, "u1002")
    invitation = FeishuInvitation.objects.get(user=na)
    assert not invitation.names({"open_id": LI_NA, "tenant_key": "demo-tenant"})
    assert not invitation.names({"user_id": ""})
    assert not invitation.names({"user_id": "u10020"})
    assert invitation.names({"user_id": "u1002"})
    assert through(client, path, LI_NA).status_code == 302  # the sandbox gives user_id: linked


@pytest.mark.usefixtures("feishu")
def test_the_token_never_reaches_a_log(client, staff_user, admin_client, caplog):
    na = staff_user("HR", username="na")
    path = invite(admin_client, na, "u1002")
    token = path.rstrip("/").rsplit("/", 1)[-1]
    with caplog.at_level(logging.DEBUG):
        assert through(client, path, LI_NA).status_code == 302
        client.logout()
        used = client.get(path)  # used already
        forged = client.get(path.replace(token, token[:-1] + ("y" if token.endswith("x") else "x")))
    for resp in (used, forged):
        assert resp.status_code == 404 and 'data-reason="invitation_invalid"' in resp.content.decode()
    assert caplog.text.count("sign-in refused: invitation_invalid") == 2
    assert token not in caplog.text and token[:-2] not in caplog.text
    assert "/accounts/feishu/invitation/" not in caplog.text  # Django's "Not Found: <path>" too


def test_the_admin_names_one_colleagues_feishu_account(admin_client, staff_user):
    na, li = staff_user("HR", username="na"), staff_user("HR", username="li")
    resp = admin_client.post(
        "/admin/auth/user/", {"action": "invite_to_feishu", "_selected_action": [na.pk, li.pk]}, follow=True
    )
    assert "Select one colleague" in resp.content.decode()
    chosen = {"action": "invite_to_feishu", "_selected_action": [na.pk], "apply": "1"}
    for wrong in ("", "not an id!", "na.li@", "x" * 65):
        resp = admin_client.post("/admin/auth/user/", {**chosen, "feishu_person": wrong})
        assert resp.status_code == 200 and "errorlist" in resp.content.decode(), wrong
    assert not FeishuInvitation.objects.exists()
    # The mailbox is personal data with no other use: only its digest is kept.
    admin_client.post("/admin/auth/user/", {**chosen, "feishu_person": "na.li@demo.example.com"})
    invitation = FeishuInvitation.objects.get()
    assert invitation.person_kind == "enterprise_email" and "na.li" not in invitation.person_digest
    page = admin_client.get("/admin/signin/feishuinvitation/").content.decode()
    assert "company mailbox" in page and "na.li" not in page


def test_an_invitation_made_before_invitations_named_their_person_links_nobody(client, staff_user):
    na = staff_user("HR", username="na")
    FeishuInvitation.objects.create(
        user=na, token_digest=digest("old-token"), expires_at=timezone.now() + timezone.timedelta(days=1)
    )
    resp = client.get("/accounts/feishu/invitation/old-token/")
    assert resp.status_code == 404 and 'data-reason="invitation_invalid"' in resp.content.decode()


@pytest.mark.usefixtures("feishu")
def test_another_feishu_account_is_never_connected_to_a_signed_in_user(client, staff_user):
    fang = wang_fang_as_staff(staff_user, "HR")
    client.force_login(fang)
    resp = client.post("/accounts/feishu/login/?process=connect&next=/admin/")
    assert resp.status_code == 302
    callback = urlsplit(choose(resp["Location"], LI_NA))
    resp = client.get(f"{callback.path}?{callback.query}")
    assert resp.status_code == 403 and 'data-reason="connect_off"' in resp.content.decode()
    assert not SocialAccount.objects.exists()
