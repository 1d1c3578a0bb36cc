"""Roles, personal data, login lockout and the deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bindings.models import CustomFieldDefinition
from hireops.events.models import FeishuEvent
from referrals.models import AccountStatus, ReferralAccount, Withdrawal

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def index(client, user) -> str:
    client.force_login(user)
    return client.get("/admin/").content.decode()


def test_each_role_sees_only_its_part(client, staff_user):
    vendor = index(client, staff_user("Vendor operations"))
    assert "/admin/bindings/" in vendor and "/admin/events/" in vendor and "/admin/orders/" in vendor
    assert "/admin/django_celery_beat/periodictask/" in vendor  # the orders' schedules
    assert "/admin/referrals/" not in vendor

    hr = index(client, staff_user("HR"))
    assert (
        "/admin/referrals/" in hr
        and "/admin/events/" in hr
        and "/admin/django_celery_beat/periodictask/" in hr
    )
    assert "/admin/bindings/" not in hr and "/admin/orders/" not in hr

    auditor = index(client, staff_user("Auditor"))
    for app in ("bindings", "orders", "referrals", "events", "django_celery_beat"):
        assert f"/admin/{app}/" in auditor
    assert "addlink" not in auditor and "/admin/auth/" not in auditor


def test_event_log_shows_each_role_its_events(client, staff_user):
    for event_id, event_type in [
        ("e1", "hire.eco_account.created_v1"),
        ("e2", "hire.referral_account.assets_update_v1"),
        ("e3", "app_ticket"),
        ("e4", "hire.eco_exam.created_v1"),
    ]:
        FeishuEvent.objects.create(
            event_id=event_id, schema="2.0", event_type=event_type, payload={}, account_id=f"acct-{event_id}"
        )

    def visible(user):
        client.force_login(user)
        page = client.get("/admin/events/feishuevent/").content.decode()
        return {e for e in ("acct-e1", "acct-e2", "acct-e3", "acct-e4") if e in page}

    assert visible(staff_user("Vendor operations")) == {"acct-e1", "acct-e4"}
    assert visible(staff_user("HR")) == {"acct-e2"}
    assert visible(staff_user("Auditor")) == {"acct-e1", "acct-e2", "acct-e3", "acct-e4"}


def test_auditor_changes_nothing(client, staff_user):
    field = CustomFieldDefinition.objects.create(scope=1, key="k", name_zh="字段")
    client.force_login(staff_user("Auditor"))
    page = client.get("/admin/bindings/customfielddefinition/").content.decode()
    assert 'name="action"' not in page
    resp = client.post(
        f"/admin/bindings/customfielddefinition/{field.pk}/change/",
        {"scope": 1, "key": "changed", "name_zh": "x", "display_order": 0},
    )
    assert resp.status_code == 403
    client.post("/admin/bindings/fieldscope/", {"action": "publish", "_selected_action": [1]})
    field.refresh_from_db()
    assert field.key == "k"
    from bindings.models import FieldPublish

    assert FieldPublish.objects.count() == 0


def test_withdrawing_needs_its_own_permission(client, staff_user):
    ReferralAccount.objects.create(
        name="A", email="a@example.com", account_id="acc-a", status=AccountStatus.ACTIVE
    )
    client.force_login(staff_user("HR"))
    assert 'value="withdraw"' not in client.get("/admin/referrals/referralaccount/").content.decode()
    client.force_login(staff_user("HR", "HR withdrawals", username="hr-lead"))
    assert 'value="withdraw"' in client.get("/admin/referrals/referralaccount/").content.decode()


def test_retrying_a_withdrawal_needs_the_withdraw_permission_too(client, staff_user):
    account = ReferralAccount.objects.create(
        name="A", email="a@example.com", account_id="acc-a", status=AccountStatus.ACTIVE
    )
    w = Withdrawal.objects.create(account=account, external_order_id="o-1", bonus_types=[1])
    for user in (staff_user("Auditor"), staff_user("HR")):
        client.force_login(user)
        assert 'value="retry_now"' not in client.get("/admin/referrals/withdrawal/").content.decode()
        client.post("/admin/referrals/withdrawal/", {"action": "retry_now", "_selected_action": [w.pk]})
        w.refresh_from_db()
        assert w.attempts == 0  # nothing was sent to Feishu
    client.force_login(staff_user("HR", "HR withdrawals", username="hr-lead"))
    assert 'value="retry_now"' in client.get("/admin/referrals/withdrawal/").content.decode()


def test_personal_data_masked_unless_permitted(client, staff_user):
    account = ReferralAccount.objects.create(
        name="B", email="bob@example.com", mobile_code="86", mobile_number="13800138000"
    )
    client.force_login(staff_user("HR"))
    for url in (
        "/admin/referrals/referralaccount/",
        f"/admin/referrals/referralaccount/{account.pk}/change/",
    ):
        page = client.get(url).content.decode()
        assert "13800138000" not in page and "bob@example.com" not in page and "138****8000" in page
    client.force_login(staff_user("HR", username="hr-dpo", perms=["core.view_personal_data"]))
    page = client.get(f"/admin/referrals/referralaccount/{account.pk}/change/").content.decode()
    assert "13800138000" in page and "bob@example.com" in page


def test_login_locks_out_after_repeated_failures(client, staff_user, settings):
    staff_user("HR", username="target")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        resp = client.post("/admin/login/", {"username": "target", "password": "wrong"})
        assert resp.status_code == 200  # the form again, with an error
    assert client.post("/admin/login/", {"username": "target", "password": "wrong"}).status_code == 429
    resp = client.post("/admin/login/", {"username": "target", "password": "Pw-123456!"})
    assert resp.status_code == 429 and "Too many failed logins" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def _check_deploy(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "SECRET_KEY"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **env},
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",  # the product's, without the emulator
    "FEISHU_SANDBOX": "0",
    "FEISHU_APP_ID": "cli_a1b2c3d4e5",
    "FEISHU_APP_SECRET": "app-secret",
    "DEBUG": "0",
    "SECRET_KEY": "k9#Vq2!rT7xL0pZ4wE8uY1sB6nM3cH5jA2dF9gK7lQ0-production-only-8f3a1c",
    "ALLOWED_HOSTS": "hireops.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "FEISHU_ENCRYPT_KEY": "ek",
    "FEISHU_VERIFICATION_TOKEN": "vt",
    "WEBHOOK_ALLOW_PRIVATE_URLS": "0",  # the tests' own receivers are on 127.0.0.1; production's never
}


@pytest.mark.processes
def test_check_deploy_is_clean_with_production_settings():
    result = _check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.processes
def test_check_deploy_warns_when_webhooks_may_go_to_private_addresses():
    result = _check_deploy(**{**PRODUCTION, "WEBHOOK_ALLOW_PRIVATE_URLS": "1"})
    assert result.returncode != 0 and "hireops.W003" in result.stdout + result.stderr


@pytest.mark.processes
def test_check_deploy_refuses_the_development_key():
    result = _check_deploy(**{k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"})
    assert result.returncode != 0 and "hireops.E001" in result.stdout + result.stderr
