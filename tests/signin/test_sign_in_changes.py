"""What changes how someone signs in (recovery codes, authenticators, the password, the email,
a colleague's factors) needs the second factor proven minutes ago, is written to the change
history of the user concerned and is mailed to them. Tried over HTTP: attack chains
starting from a stolen password fail; after a real code each change goes through."""

from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core import mail

from hireops.core import audit
from hireops.signin.models import EnrolmentLink
from tests.conftest import STAFF_PASSWORD
from tests.second_factor import give_totp, totp_code

from .test_every_page import (
    NEW_PASSWORD,
    age_the_proof,
    password_only,
    recovery_codes,
    sign_in_data,
    with_code,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.second_factor_unproven]

STEP = "/accounts/2fa/reauthenticate/"


@pytest.fixture(autouse=True)
def notifications(settings):
    """Mail is set up (the tests' outbox) and the security notifications with it."""
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True


def history(user) -> list[str]:
    entries = LogEntry.objects.filter(object_id=str(user.pk), content_type__model="user").order_by("pk")
    return [audit.describe(e) for e in entries]


def mails_to(address: str) -> list[str]:
    return [f"{m.subject}\n{m.body}" for m in mail.outbox if address in m.to]


def test_a_stolen_password_never_shows_the_recovery_codes(client, root):
    codes = recovery_codes(root)
    password_only(client, "root")
    for path in ("/accounts/2fa/recovery-codes/", "/accounts/2fa/recovery-codes/download/"):
        resp = client.get(path)
        assert resp.status_code == 302 and urlsplit(resp["Location"]).path == STEP
        assert not any(code in resp.content.decode() for code in codes)
    # Confirming with the password is not offered: the step asks for the factor.
    assert urlsplit(client.get("/accounts/reauthenticate/")["Location"]).path == STEP
    step = client.get(f"{STEP}?next=/accounts/2fa/recovery-codes/").content.decode()
    assert "Use your password" not in step and 'name="code"' in step

    # The owner, with the code from the app: the codes are shown, and replacing them is
    # written down and mailed.
    resp = client.post(f"{STEP}?next=/accounts/2fa/recovery-codes/", {"code": totp_code(root.totp_secret)})
    assert resp["Location"] == "/accounts/2fa/recovery-codes/"
    page = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert all(code in page for code in codes)
    assert client.post("/accounts/2fa/recovery-codes/generate/").status_code == 302
    assert not set(recovery_codes(root)) & set(codes)
    assert "Generated new recovery codes" in history(root)
    (notice,) = mails_to("root@example.com")
    assert "recovery codes" in notice.lower()


def test_a_stolen_password_cannot_swap_the_authenticator_app_for_the_attackers_phone(client, root):
    password_only(client, "root")
    resp = client.post("/accounts/2fa/totp/deactivate/")
    assert resp.status_code == 302 and urlsplit(resp["Location"]).path == STEP
    assert Authenticator.objects.filter(user=root, type="totp").exists()
    assert urlsplit(client.get("/accounts/2fa/totp/activate/")["Location"]).path == STEP
    assert history(root) == [] and mail.outbox == []

    # The owner replaces their phone: the old app's code first.
    client.post(STEP, {"code": totp_code(root.totp_secret)})
    resp = client.post("/accounts/2fa/totp/deactivate/")
    assert resp.status_code == 302 and not Authenticator.objects.filter(user=root).exists()
    assert history(root) == ["Removed the authenticator app", "Removed the recovery codes"]
    assert "deactivated" in mails_to("root@example.com")[0].lower()
    # No factor left: the session's proof went with it, and nothing opens before a new one.
    assert client.get("/admin/")["Location"].startswith("/accounts/second-factor/")
    # A new phone is a first factor again: the password of minutes ago does not let it in, an
    # enrolment link does (tests/signin/test_enrolment.py).
    assert client.get("/accounts/2fa/totp/activate/")["Location"] == "/accounts/second-factor/"
    _link, token = EnrolmentLink.issue(root)
    client.get(f"/accounts/second-factor/link/{token}/")
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session["mfa.totp.secret"]
    resp = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert resp.status_code == 302 and Authenticator.objects.filter(user=root, type="totp").exists()
    assert history(root)[-2:] == ["Set up an authenticator app", "Generated recovery codes"]
    assert client.get("/admin/").status_code == 200


def colleague(staff_user):
    user = staff_user("HR", username="colleague")
    user.email = "colleague@example.com"
    user.save()
    give_totp(user)
    return user


CHANGES = {
    # name: (path, form, what changed, the history line, who is told, what the mail says)
    "own password": (
        lambda root, other: "/admin/password_change/",
        {"old_password": STAFF_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        lambda root, other: get_user_model().objects.get(pk=root.pk).check_password(NEW_PASSWORD),
        lambda root, other: "Changed the password" in history(root),
        "root@example.com",
        "password has been changed",
    ),
    "own email": (
        lambda root, other: f"/admin/auth/user/{root.pk}/change/",
        {
            "username": "root",
            "email": "root@new.example.com",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
        },
        lambda root, other: get_user_model().objects.get(pk=root.pk).email == "root@new.example.com",
        lambda root, other: any("Email address" in line for line in history(root)),
        "root@example.com",  # the old address
        "root@new.example.com",
    ),
    "a colleague's password": (
        lambda root, other: f"/admin/auth/user/{other.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        lambda root, other: get_user_model().objects.get(pk=other.pk).check_password(NEW_PASSWORD),
        lambda root, other: any("password" in line.lower() for line in history(other)),
        "colleague@example.com",
        "password has been changed",
    ),
    "a colleague's factors": (
        lambda root, other: "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": "{other}"},
        lambda root, other: not Authenticator.objects.filter(user=other).exists(),
        lambda root, other: "Reset two-factor authentication" in history(other),
        "colleague@example.com",
        "administrator removed your second factors",
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_to_how_someone_signs_in_needs_a_fresh_code(client, root, staff_user, change):
    path, form, changed, recorded, told, says = CHANGES[change]
    other = colleague(staff_user)
    path = path(root, other)
    form = {k: (str(other.pk) if v == "{other}" else v) for k, v in form.items()}
    with_code(client, root)
    age_the_proof(client, 3600)  # the code was an hour ago
    password_only(client, "root")  # and the password typed again just now does not count
    before = sign_in_data(root), sign_in_data(other)

    resp = client.post(path, form)
    assert resp.status_code == 302 and urlsplit(resp["Location"]).path == STEP, resp.content.decode()[:2000]
    assert (sign_in_data(root), sign_in_data(other)) == before
    assert not changed(root, other) and mail.outbox == []

    # The code now: allauth replays the form that was stopped, and the change is made,
    # written down and mailed to the person it concerns (a reset then offers an enrolment link).
    resp = client.post(resp["Location"], {"code": totp_code(root.totp_secret)})
    assert resp.status_code == (200 if change == "a colleague's factors" else 302), resp.content.decode()[
        :2000
    ]
    assert changed(root, other)
    assert recorded(root, other), (history(root), history(other))
    notices = mails_to(told)
    assert len(notices) == 1 and says in notices[0], [(m.to, m.body) for m in mail.outbox]


def test_a_user_without_a_factor_changes_their_password_with_the_old_one(client, staff_user):
    """Vendor operations, whose role needs no second factor: the admin's form (the old
    password) as before, now in the history and mailed."""
    vendor = staff_user("Vendor operations", username="vendor")
    vendor.email = "vendor@example.com"
    vendor.save()
    password_only(client, "vendor")
    form = {"old_password": STAFF_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/admin/password_change/", form)["Location"] == "/admin/password_change/done/"
    assert get_user_model().objects.get(pk=vendor.pk).check_password(NEW_PASSWORD)
    assert history(vendor) == ["Changed the password"]
    assert "password has been changed" in mails_to("vendor@example.com")[0]


def test_a_notification_that_cannot_be_sent_does_not_undo_the_change(client, staff_user, settings, caplog):
    settings.EMAIL_BACKEND = "tests.signin.test_sign_in_changes.BrokenMail"
    vendor = staff_user("Vendor operations", username="vendor")
    vendor.email = "vendor@example.com"
    vendor.save()
    password_only(client, "vendor")
    form = {"old_password": STAFF_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/admin/password_change/", form).status_code == 302
    assert get_user_model().objects.get(pk=vendor.pk).check_password(NEW_PASSWORD)
    assert "security notification account/email/password_changed" in caplog.text
    assert "vendor@example.com" not in caplog.text


class BrokenMail:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")
