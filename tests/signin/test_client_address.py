"""django-axes behind the TLS proxy: failed sign-ins count against the client's address only when
the operator declares how many proxies stand in front (TRUSTED_PROXY_COUNT), never from a header
anyone can write otherwise. Tried over HTTP on the admin's password form, with requests shaped
as they arrive from the proxy (REMOTE_ADDR is the proxy's address)."""

import pytest
from axes.models import AccessAttempt

from tests.conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor_unproven]

PROXY = "10.0.0.2"  # what gunicorn sees for every request that came through the proxy
ATTACKER, COLLEAGUE = "203.0.113.7", "198.51.100.23"


def sign_in(client, password, forwarded_for=None):
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post("/admin/login/", {"username": "target", "password": password}, **headers)


def fail_until_locked(client, settings, forwarded_for) -> None:
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong", forwarded_for(i)).status_code == 200
    assert sign_in(client, "wrong", forwarded_for(99)).status_code == 429


def test_without_trusted_proxies_a_forged_header_changes_nothing(client, settings, staff_user):
    settings.TRUSTED_PROXY_COUNT = 0
    staff_user("HR", username="target")
    # A guesser writes a new "client address" into each attempt: still one address, locked.
    fail_until_locked(client, settings, lambda i: f"192.0.2.{i}")
    resp = sign_in(client, STAFF_PASSWORD, "192.0.2.200")
    assert resp.status_code == 429 and "_auth_user_id" not in client.session
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


def test_behind_one_proxy_the_guesser_locks_out_only_their_own_address(client, settings, staff_user):
    settings.TRUSTED_PROXY_COUNT = 1
    staff_user("HR", username="target")
    # The proxy appends the address it saw; whatever the guesser wrote stays on the left.
    fail_until_locked(client, settings, lambda i: f"192.0.2.{i}, {ATTACKER}")
    assert sign_in(client, STAFF_PASSWORD, f"{COLLEAGUE}, {ATTACKER}").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # The colleague, from their own address, signs in.
    resp = sign_in(client, STAFF_PASSWORD, COLLEAGUE)
    assert resp.status_code == 302 and client.session["_auth_user_id"]


def test_behind_two_proxies_the_second_address_from_the_right_counts(client, settings, staff_user):
    settings.TRUSTED_PROXY_COUNT = 2
    staff_user("HR", username="target")
    fail_until_locked(client, settings, lambda i: f"192.0.2.{i}, {ATTACKER}, 10.0.0.1")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # Fewer entries than proxies: it did not come through both; the connection's address counts.
    assert sign_in(client, "wrong", COLLEAGUE).status_code == 200
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER, PROXY}
    assert sign_in(client, STAFF_PASSWORD, f"{COLLEAGUE}, 10.0.0.1").status_code == 302


@pytest.mark.django_db(transaction=True)  # the mail goes once the change is committed
def test_a_security_mail_names_the_clients_address(client, settings, staff_user):
    """allauth's rate limits and notifications read the same address (its adapter)."""
    from django.core import mail

    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    vendor = staff_user("Vendor operations", username="target")  # a role with no second factor
    vendor.email = "target@example.com"
    vendor.save()
    assert sign_in(client, STAFF_PASSWORD, f"192.0.2.1, {COLLEAGUE}").status_code == 302
    form = {
        "old_password": STAFF_PASSWORD,
        "new_password1": "An0ther-Pw-789!",
        "new_password2": "An0ther-Pw-789!",
    }
    resp = client.post(
        "/admin/password_change/", form, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"x, {COLLEAGUE}"
    )
    assert resp.status_code == 302
    (notice,) = mail.outbox
    assert COLLEAGUE in notice.body and PROXY not in notice.body
