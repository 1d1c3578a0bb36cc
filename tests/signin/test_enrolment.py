"""A password alone never sets up a first second factor (docs/second-factor.md). Tried as the attacker did
it, over HTTP through the real pages: a member of HR payout approvals with no authenticator yet,
whose password the thief has, signs in on the admin's password form, is sent to enrolment and
opens the authenticator app's activation page to scan its secret into the thief's own phone.
Then the two ways that do work: a sign-in with Feishu, and an enrolment link an administrator
issued for that very user."""

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from hireops.core import audit
from hireops.signin import enrolment
from hireops.signin.models import EnrolmentLink
from hireops.signin.second_factor import record
from tests.conftest import STAFF_PASSWORD
from tests.feishu_login import WANG_FANG, wang_fang_as_staff
from tests.ops.test_metrics import Counted
from tests.second_factor import give_totp, totp_code

from .test_feishu_sign_in import choose, feishu, sign_in  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor_unproven]

GUIDE = "/accounts/second-factor/"
ACTIVATE = "/accounts/2fa/totp/activate/"
ADD_KEY = "/accounts/2fa/webauthn/add/"
SECRET = "mfa.totp.secret"  # where allauth keeps the secret its activation page shows


@pytest.fixture
def approver(staff_user):
    """A member of HR payout approvals who has not set up an authenticator yet."""
    return staff_user("HR", "HR payout approvals", username="approver")


def password_only(client, username="approver"):
    resp = client.post("/admin/login/", {"username": username, "password": STAFF_PASSWORD})
    assert resp.status_code == 302, resp.content.decode()[:500]


def factors(user) -> list[str]:
    return list(Authenticator.objects.filter(user=user).values_list("type", flat=True))


def guided(resp) -> bool:
    return resp.status_code == 302 and urlsplit(resp["Location"]).path == GUIDE


# --- the attack -----------------------------------------------------------------------------------


def test_a_stolen_password_cannot_put_the_thiefs_phone_in_as_the_second_factor(client, approver):
    password_only(client)
    resp = client.get("/admin/")
    assert guided(resp)  # sent to enrolment, as before
    guide = client.get(resp["Location"]).content.decode()

    # The activation page does not open: no secret is made, none is shown.
    for method in ("get", "head"):
        resp = getattr(client, method)(ACTIVATE)
        assert guided(resp), (method, resp.status_code)
        assert SECRET not in client.session
        assert b"otpauth://" not in resp.content and b"authenticator_secret" not in resp.content
    # A code for a secret of the thief's choosing, posted anyway: nothing is added.
    resp = client.post(ACTIVATE, {"code": totp_code(generate_totp_secret())})
    assert guided(resp) and factors(approver) == []

    # The guide says why and what works instead, and offers nothing that would show a secret.
    assert 'id="enrol-proof"' in guide and 'id="enrol-totp"' not in guide
    assert "Your password alone cannot set up a second factor" in guide
    assert "enrolment link an administrator gives you" in guide
    # Nothing else opens meanwhile.
    assert guided(client.get("/admin/referrals/payoutrun/"))


def test_typing_the_password_again_proves_nothing(client, approver):
    """allauth's "confirm with your password" page counted a password typed minutes ago as
    proof enough to add a first factor: it is no way round the rule."""
    password_only(client)
    resp = client.get("/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/")
    assert guided(resp)
    resp = client.post("/accounts/reauthenticate/", {"password": STAFF_PASSWORD})
    assert guided(resp)
    assert guided(client.get(ACTIVATE)) and SECRET not in client.session
    password_only(client)  # signing in again, minutes later: the same
    assert guided(client.get(ACTIVATE)) and SECRET not in client.session


def test_a_secret_already_in_the_session_is_no_way_in_either(client, approver):
    """Even with a secret in the session (made before the rule, say) and its valid code, the
    activation is refused before allauth's form reads it."""
    password_only(client)
    session = client.session
    secret = session[SECRET] = generate_totp_secret()
    session.save()
    resp = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert guided(resp) and factors(approver) == []


def test_the_security_key_pages_refuse_too(client, approver):
    password_only(client)
    for method in ("get", "head"):
        resp = getattr(client, method)(ADD_KEY)
        assert guided(resp), (method, resp.status_code)
        assert b"creation_options" not in resp.content  # no challenge for the thief's key
    assert "mfa.webauthn.state" not in client.session
    resp = client.post(ADD_KEY, {"name": "thief", "credential": '{"id": "x", "type": "public-key"}'})
    assert guided(resp) and factors(approver) == []


def test_a_user_whose_role_needs_no_factor_cannot_enrol_by_password_either(client, staff_user):
    """Vendor operations need no second factor today; a thief who enrolled their phone on such
    an account would hold it when the account is given a money permission tomorrow."""
    staff_user("Vendor operations", username="vendor")
    password_only(client, "vendor")
    assert client.get("/admin/").status_code == 200  # the role needs no factor: the admin opens
    assert guided(client.get(ACTIVATE)) and guided(client.get(ADD_KEY))
    assert SECRET not in client.session


@pytest.fixture
def in_a_request():
    """A request as allauth sees it while a page runs (``allauth.core.context``), signed in
    as ``user`` with the given steps of its sign-in in its session."""

    def make(user, *steps):
        request = RequestFactory().get("/")
        request.user, request.session = user, SessionStore()
        for method, extra in steps:
            record(request, user, method, **extra)
        return context.request_context(request)

    return make


def test_no_page_can_forget_the_rule_it_is_checked_on_the_rows(approver, in_a_request, staff_user):
    """A page that adds a factor some other way (one allauth adds tomorrow, one of ours) meets
    the same rule where the factor is saved."""
    with in_a_request(approver, ("password", {})), pytest.raises(ImmediateHttpResponse) as stopped:
        TOTP.activate(approver, generate_totp_secret())
    assert urlsplit(stopped.value.response["Location"]).path == GUIDE
    with in_a_request(approver, ("password", {})), pytest.raises(ImmediateHttpResponse):
        Authenticator.objects.create(user=approver, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert factors(approver) == []
    # Someone else's first factor: no page adds it, whatever that session proved.
    other = staff_user("HR", username="other")
    with in_a_request(other, ("socialaccount", {"provider": "feishu"})), pytest.raises(Exception) as refused:
        TOTP.activate(approver, generate_totp_secret())
    assert type(refused.value).__name__ == "PermissionDenied" and factors(approver) == []
    # With the proof, the same call adds it; outside a request (a command, a test's set-up), as before.
    with in_a_request(approver, ("socialaccount", {"provider": "feishu"})):
        TOTP.activate(approver, generate_totp_secret())
    assert factors(approver) == ["totp"]
    give_totp(other)
    assert factors(other) == ["totp"]


def test_the_proof_lasts_minutes_and_is_this_users(approver, settings, staff_user):
    request = RequestFactory().get("/")
    request.user, request.session = approver, SessionStore()
    assert enrolment.proof(request) is None
    record(request, approver, "password", reauthenticated=True)
    assert enrolment.proof(request) is None  # a password never counts, however it is noted
    record(request, approver, "socialaccount", provider="feishu")
    assert enrolment.proof(request) == enrolment.FEISHU
    request.session["account_authentication_methods"][-1]["at"] -= settings.ENROLMENT_PROOF_MINUTES * 60 + 1
    assert enrolment.proof(request) is None
    record(request, approver, enrolment.LINK_STEP, link=1)
    assert enrolment.proof(request) == enrolment.LINK
    request.user = staff_user("HR", username="someone-else")  # the session's steps are the approver's
    assert enrolment.proof(request) is None
    request.user = AnonymousUser()
    assert enrolment.proof(request) is None


# --- Feishu: the person proved by Feishu --------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # allauth announces a new factor on commit
def test_a_feishu_sign_in_lets_the_person_enrol_and_confirms_again_later(
    client,
    feishu,  # noqa: F811
    staff_user,
    settings,
):
    lead = wang_fang_as_staff(staff_user, "HR", "HR payout approvals")  # has a hireops password too
    sign_in(client, WANG_FANG)
    guide = client.get(GUIDE).content.decode()
    assert 'id="enrol-totp"' in guide and 'id="enrol-proof"' not in guide
    assert client.get(ACTIVATE).status_code == 200  # no password asked, the secret shown

    settings.ENROLMENT_PROOF_MINUTES = 0  # the minutes have passed
    guide = client.get(f"{GUIDE}?next=/admin/").content.decode()
    assert 'id="feishu-again"' in guide and 'id="enrol-totp"' not in guide
    assert guided(client.get(ACTIVATE))

    # Confirming with Feishu signs her in afresh and brings her back to the guide.
    resp = client.post("/accounts/feishu/login/?process=login&next=/accounts/second-factor/")
    callback = urlsplit(choose(resp["Location"], WANG_FANG))
    settings.ENROLMENT_PROOF_MINUTES = 15
    resp = client.get(f"{callback.path}?{callback.query}")
    assert resp["Location"] == GUIDE
    assert client.get(ACTIVATE).status_code == 200
    secret = client.session[SECRET]  # what the QR code holds
    resp = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert resp.status_code == 302 and set(factors(lead)) == {"totp", "recovery_codes"}
    assert client.get("/admin/").status_code == 200


# --- an enrolment link, from an administrator ----------------------------------------------------


@pytest.fixture
def root(django_user_model):
    user = django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD)
    user.totp_secret = give_totp(user)
    return user


def as_root(root) -> Client:
    """The administrator, signed in with the password and their app's code."""
    admin = Client()
    password_only(admin, "root")
    resp = admin.post("/accounts/2fa/reauthenticate/", {"code": totp_code(root.totp_secret)})
    assert resp.status_code == 302 and admin.get("/admin/").status_code == 200
    return admin


def issue_link(admin: Client, user) -> str:
    """The action "Issue an enrolment link…" for ``user``, confirmed; the link's path."""
    chosen = {"action": "issue_enrolment_link", "_selected_action": [user.pk]}
    page = admin.post("/admin/auth/user/", chosen).content.decode()
    assert 'id="enrolment-link-form"' in page and "/accounts/second-factor/link/" not in page
    page = admin.post("/admin/auth/user/", {**chosen, "apply": "1"}).content.decode()
    (link,) = re.findall(r'id="enrolment-link" value="([^"]+)"', page)
    assert link.startswith("http://testserver/accounts/second-factor/link/")
    return urlsplit(link).path


def history(user) -> list[str]:
    entries = LogEntry.objects.filter(object_id=str(user.pk), content_type__model="user").order_by("pk")
    return [audit.describe(e) for e in entries]


@pytest.mark.django_db(transaction=True)
def test_a_link_valid_one_hour_and_a_minute_to_enrol_read_in_the_singular(client, approver, root, settings):
    settings.ENROLMENT_LINK_HOURS, settings.ENROLMENT_PROOF_MINUTES = 1, 1
    path = issue_link(as_root(root), approver)
    assert history(approver) == ["Issued an enrolment link, valid 1 hour"]
    with translation.override("zh-hans"):
        assert history(approver) == ["签发了第二验证因素设置链接，有效期 1 小时"]
    password_only(client)
    client.get(path)
    assert "set up your second factor within 1 minute." in client.get(GUIDE).content.decode()


@pytest.mark.django_db(transaction=True)  # allauth announces a new factor on commit
def test_an_enrolment_link_lets_its_user_enrol_once(client, approver, root):
    path = issue_link(as_root(root), approver)
    assert history(approver) == ["Issued an enrolment link, valid 24 hours"]
    assert LogEntry.objects.filter(object_id=str(approver.pk)).get().user == root
    link = EnrolmentLink.objects.get(user=approver)
    assert (
        link.created_by == root
        and link.used_at is None
        and path.rstrip("/").split("/")[-1] not in str(EnrolmentLink.objects.values_list())
    )  # only its digest is kept

    password_only(client)
    assert guided(client.get(ACTIVATE))  # the password alone: still not
    counted = Counted(("hireops_signins_total", {"method": "enrolment_link", "outcome": "used"}))
    resp = client.get(path)
    assert guided(resp) and counted.delta() == [1]
    guide = client.get(GUIDE).content.decode()
    assert 'id="enrol-totp"' in guide and "set up your second factor within 15 minutes" in guide
    assert client.get(ACTIVATE).status_code == 200
    resp = client.post(ACTIVATE, {"code": totp_code(client.session[SECRET])})
    assert resp.status_code == 302 and set(factors(approver)) == {"totp", "recovery_codes"}
    assert client.get("/admin/").status_code == 200
    assert EnrolmentLink.objects.get(pk=link.pk).used_at is not None

    # Used: refused ever after, even once the factor is gone again (a reset, say).
    Authenticator.objects.filter(user=approver).delete()
    other = Client()
    password_only(other)
    resp = other.get(path)
    assert resp.status_code == 404 and 'data-reason="enrolment_link_invalid"' in resp.content.decode()


def test_a_link_opened_by_someone_else_is_refused_and_stays_for_its_user(client, approver, root, staff_user):
    path = issue_link(as_root(root), approver)
    staff_user("HR", "HR payout approvals", username="thief-account")
    password_only(client, "thief-account")
    resp = client.get(path)
    assert resp.status_code == 403 and 'data-reason="enrolment_link_other_user"' in resp.content.decode()
    assert guided(client.get(ACTIVATE))
    assert EnrolmentLink.objects.get().used_at is None  # nothing spent

    # A visitor who is not signed in is asked to sign in first, and comes back to it.
    visitor = Client()
    resp = visitor.get(path)
    assert resp.status_code == 302 and urlsplit(resp["Location"]).path == "/admin/login/"
    assert EnrolmentLink.objects.get().used_at is None
    resp = visitor.post(resp["Location"], {"username": "approver", "password": STAFF_PASSWORD})
    assert resp["Location"] == path
    assert guided(visitor.get(path)) and visitor.get(ACTIVATE).status_code == 200


def test_an_expired_link_and_a_replaced_one_are_refused(client, approver, root, settings):
    admin = as_root(root)
    first = issue_link(admin, approver)
    second = issue_link(admin, approver)  # a new link cancels the one before
    password_only(client)
    resp = client.get(first)
    assert resp.status_code == 404 and 'data-reason="enrolment_link_invalid"' in resp.content.decode()
    EnrolmentLink.objects.filter(used_at=None).update(expires_at=timezone.now())
    assert client.get(second).status_code == 404
    assert client.get("/accounts/second-factor/link/made-up-token/").status_code == 404
    assert guided(client.get(ACTIVATE)) and SECRET not in client.session


def test_the_link_is_in_no_log_line(client, approver, root, staff_user, caplog):
    path = issue_link(as_root(root), approver)
    token = path.rstrip("/").split("/")[-1]
    staff_user("HR", username="colleague")
    password_only(client, "colleague")
    assert client.get(path).status_code == 403  # another user's: refused, logged
    anonymous = Client()
    assert anonymous.get(path).status_code == 302  # to the sign-in, the link in its next=
    EnrolmentLink.objects.update(expires_at=timezone.now())
    assert client.get(path).status_code == 404
    assert "sign-in refused: enrolment_link_other_user" in caplog.text
    assert "sign-in refused: enrolment_link_invalid" in caplog.text
    assert token not in caplog.text


def test_issuing_a_link_is_for_superusers_with_a_fresh_factor(client, approver, root, staff_user):
    admin = as_root(root)
    chosen = {"action": "issue_enrolment_link", "_selected_action": [approver.pk], "apply": "1"}
    # Two colleagues at once: refused, nothing issued.
    other = staff_user("HR", username="other")
    resp = admin.post(
        "/admin/auth/user/", {**chosen, "_selected_action": [approver.pk, other.pk]}, follow=True
    )
    assert "each enrolment link is for one user" in resp.content.decode()
    # Someone enrolled already: refused (their factor is reset first).
    give_totp(other)
    resp = admin.post("/admin/auth/user/", {**chosen, "_selected_action": [other.pk]}, follow=True)
    assert "has a second factor already" in resp.content.decode()
    assert not EnrolmentLink.objects.exists()

    # The code proven an hour ago: asked for again before the link is made.
    session = admin.session
    for step in session["account_authentication_methods"]:
        step["at"] -= 3600
    session.save()
    resp = admin.post("/admin/auth/user/", chosen)
    assert urlsplit(resp["Location"]).path == "/accounts/2fa/reauthenticate/"
    assert not EnrolmentLink.objects.exists()

    # A user administrator who is no superuser is not offered it, and a forged POST makes nothing.
    role_admin = staff_user(username="role-admin", perms=["auth.change_user", "auth.view_user"])
    give_totp(role_admin)
    client.force_login(role_admin)
    assert 'value="issue_enrolment_link"' not in client.get("/admin/auth/user/").content.decode()
    client.post("/admin/auth/user/", chosen)
    assert not EnrolmentLink.objects.exists()


def test_a_reset_offers_a_link_at_once(client, approver, root):
    give_totp(approver)
    admin = as_root(root)
    resp = admin.post(
        "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [approver.pk]}
    )
    page = resp.content.decode()
    assert resp.status_code == 200 and factors(approver) == []
    assert "They set up a new one after signing in with Feishu, or with an enrolment link" in page
    assert 'id="enrolment-link-form"' in page and 'value="issue_enrolment_link"' in page
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    page = admin.post("/admin/auth/user/", form).content.decode()
    assert re.search(r'id="enrolment-link" value="http://testserver/accounts/second-factor/link/', page)
    assert EnrolmentLink.objects.filter(user=approver, created_by=root).exists()


@pytest.mark.django_db(transaction=True)
def test_the_first_superuser_gets_a_link_from_the_servers_shell(client, django_user_model, settings):
    """A new deployment's first superuser has nobody above them: shell access to the server is
    the proof beyond the password (docs/deployment.md)."""
    settings.ADMIN_BASE_URL = "https://hireops.example.com/"
    django_user_model.objects.create_superuser("first", password=STAFF_PASSWORD)
    out = StringIO()
    call_command("enrolment_link", "first", stdout=out)
    (link,) = re.findall(r"https://hireops\.example\.com/accounts/second-factor/link/\S+/", out.getvalue())
    assert EnrolmentLink.objects.get().created_by is None

    out = StringIO()
    call_command("enrolment_link", "first", "--base-url", "http://127.0.0.1:8000", stdout=out)
    (link,) = re.findall(r"http://127\.0\.0\.1:8000(/accounts/second-factor/link/\S+/)", out.getvalue())
    password_only(client, "first")
    assert guided(client.get(ACTIVATE))
    assert guided(client.get(link)) and client.get(ACTIVATE).status_code == 200
    resp = client.post(ACTIVATE, {"code": totp_code(client.session[SECRET])})
    assert resp.status_code == 302 and client.get("/admin/").status_code == 200

    with pytest.raises(CommandError, match="has a second factor already"):
        call_command("enrolment_link", "first")
    with pytest.raises(CommandError, match="No user"):
        call_command("enrolment_link", "nobody")
