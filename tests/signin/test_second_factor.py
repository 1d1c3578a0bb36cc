"""Second factors (allauth.mfa) for whoever can move money or change roles, whichever way they
signed in: guided enrolment, the code at every sign-in, the requirement following the
permission, and a superuser resetting a colleague's factors (in the change history)."""

from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from hireops.core import audit
from hireops.signin.models import EnrolmentLink
from hireops.signin.second_factor import needs_second_factor
from tests.conftest import STAFF_PASSWORD
from tests.feishu_login import WANG_FANG, wang_fang_as_staff
from tests.second_factor import give_totp, totp_code

from .test_every_page import age_the_proof
from .test_feishu_sign_in import feishu, sign_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor_unproven]


def password_sign_in(client, username):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": STAFF_PASSWORD})


def test_who_needs_a_second_factor_follows_permissions(staff_user, django_user_model):
    assert needs_second_factor(staff_user("HR"))  # external rewards move money
    assert not needs_second_factor(staff_user("Vendor operations"))
    assert not needs_second_factor(staff_user("Auditor"))
    assert needs_second_factor(staff_user("HR", "HR withdrawals", username="hr-lead"))
    assert needs_second_factor(staff_user(username="role-admin", perms=["auth.change_user"]))
    assert needs_second_factor(staff_user(username="group-admin", perms=["auth.change_group"]))
    assert needs_second_factor(django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD))


@pytest.mark.django_db(transaction=True)  # allauth announces a new factor on commit
def test_a_withdrawer_enrols_on_first_sign_in_then_enters_a_code_each_time(client, staff_user):
    lead = staff_user("HR", "HR withdrawals", username="hr-lead")
    resp = password_sign_in(client, "hr-lead")
    assert resp.status_code == 302
    # No admin page opens before the second factor is set up.
    resp = client.get("/admin/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/second-factor/")
    assert client.get("/admin/referrals/referralaccount/")["Location"].startswith("/accounts/second-factor/")
    # The password alone sets none up (tests/signin/test_enrolment.py): an enrolment link does.
    _link, token = EnrolmentLink.issue(lead)
    assert client.get(f"/accounts/second-factor/link/{token}/").status_code == 302
    guide = client.get(resp["Location"]).content.decode()
    assert "Set up an authenticator app" in guide

    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 200
    secret = client.session["mfa.totp.secret"]
    resp = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert resp.status_code == 302 and "recovery-codes" in resp["Location"]
    codes = client.get(resp["Location"]).content.decode()
    assert "Recovery Codes" in codes
    assert client.get("/admin/").status_code == 200  # enrolling proved the factor

    client.logout()
    password_sign_in(client, "hr-lead")
    resp = client.get("/admin/")
    assert resp["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert client.post(resp["Location"], {"code": "000000"}).status_code == 200  # wrong: asked again
    assert client.get("/admin/").status_code == 302
    recovery = Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()[0]
    resp = client.post(resp["Location"], {"code": recovery})
    assert resp.status_code == 302 and client.get("/admin/").status_code == 200


def test_a_password_sign_in_asks_for_the_code_as_a_sign_in_step_never_for_the_password(client, root):
    """The admin's password form signs in without allauth's own code step, so the
    code is asked on allauth's reauthentication page. It read "Confirm access: please
    reauthenticate" and offered "Use your password", which proves no factor and led back to
    it. It is the sign-in's step: said so, the factors only, and a way to sign out."""
    password_sign_in(client, "root")
    step = client.get("/admin/")["Location"]
    assert urlsplit(step).path == "/accounts/2fa/reauthenticate/"
    page = client.get(step).content.decode()
    assert "Sign in: second factor" in page and "Confirm Access" not in page
    assert 'name="code"' in page
    assert "Use your password" not in page and 'href="/accounts/reauthenticate/' not in page
    assert 'action="/admin/logout/"' in page
    # The password page itself leads back to the code, not round again.
    assert urlsplit(client.get("/accounts/reauthenticate/")["Location"]).path == urlsplit(step).path

    resp = client.post(step, {"code": totp_code(root.totp_secret)})
    assert resp.status_code == 302 and resp["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    # Once signed in, the same page is what it says: a confirmation before a sensitive change.
    age_the_proof(client, 3600)
    confirm = client.get("/accounts/2fa/recovery-codes/")["Location"]
    page = client.get(confirm).content.decode()
    assert "Confirm Access" in page and "Sign in: second factor" not in page
    assert 'action="/admin/logout/"' not in page


def test_a_code_is_taken_once_even_within_its_30_seconds(client, root):
    """A code seen over someone's shoulder, or replayed, opens nothing once it has been used:
    allauth refuses it for the rest of its window (tolerance 0, as in production)."""
    password_sign_in(client, "root")
    step = client.get("/admin/")["Location"]
    code = totp_code(root.totp_secret)
    assert client.post(step, {"code": code}).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.logout()
    password_sign_in(client, "root")
    step = client.get("/admin/")["Location"]
    assert urlsplit(step).path == "/accounts/2fa/reauthenticate/"
    assert client.post(step, {"code": code}).status_code == 200  # the form again: refused
    assert client.get("/admin/")["Location"] == step


def test_a_user_given_the_withdrawal_permission_is_stopped_at_the_next_page(client, staff_user):
    viewer = staff_user(username="viewer", perms=["referrals.view_referralaccount"])
    password_sign_in(client, "viewer")
    assert client.get("/admin/referrals/referralaccount/").status_code == 200
    viewer.groups.add(Group.objects.get(name="HR withdrawals"))
    resp = client.get("/admin/referrals/referralaccount/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/second-factor/")


def test_feishu_sign_in_asks_for_the_code_too(client, feishu, staff_user):  # noqa: F811
    lead = wang_fang_as_staff(staff_user, "HR", "HR withdrawals")
    secret = give_totp(lead)
    resp = sign_in(client, WANG_FANG)
    assert resp.status_code == 302 and urlsplit(resp["Location"]).path == "/accounts/2fa/authenticate/"
    assert not client.get("/admin/").wsgi_request.user.is_authenticated  # not signed in yet
    resp = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert resp.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_superuser_resets_a_colleagues_factors_and_the_history_says_so(
    client, staff_user, django_user_model
):
    lead = staff_user("HR", "HR withdrawals", username="hr-lead")
    leads_secret = give_totp(lead)
    leads_phone = Client()  # signed in, factor proven, somewhere else
    password_sign_in(leads_phone, "hr-lead")
    leads_phone.post(leads_phone.get("/admin/")["Location"], {"code": totp_code(leads_secret)})
    assert leads_phone.get("/admin/").status_code == 200
    root = django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD)
    secret = give_totp(root)
    password_sign_in(client, "root")
    client.post(client.get("/admin/")["Location"], {"code": totp_code(secret)})
    page = client.get("/admin/auth/user/").content.decode()
    assert 'value="reset_second_factor"' in page
    resp = client.post("/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [lead.pk]})
    assert resp.status_code == 200 and 'id="enrolment-link-form"' in resp.content.decode()  # offered
    assert not Authenticator.objects.filter(user=lead).exists()
    entry = LogEntry.objects.get(object_id=str(lead.pk))
    assert entry.user == root and "Reset two-factor authentication" in audit.describe(entry)
    with translation.override("zh-hans"):  # stored as a msgid: each reader reads their language
        assert "重置" in audit.describe(entry)
    # The sessions that proved the removed factor ended; the superuser's own goes on.
    assert leads_phone.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/auth/user/").status_code == 200

    # Someone who may change users, but is no superuser, cannot reset anyone's factors.
    role_admin = staff_user(username="role-admin", perms=["auth.change_user", "auth.view_user"])
    role_secret = give_totp(role_admin)
    client.logout()
    password_sign_in(client, "role-admin")
    client.post(client.get("/admin/")["Location"], {"code": totp_code(role_secret)})
    assert 'value="reset_second_factor"' not in client.get("/admin/auth/user/").content.decode()
