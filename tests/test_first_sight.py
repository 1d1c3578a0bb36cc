"""What a new user meets first: the demo's data, the navigation, the event log's names."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from bindings.models import (
    BindingStatus,
    CustomFieldDefinition,
    EcoAccountBinding,
    FieldPublish,
    VendorCustomer,
)
from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent
from orders.catalogue.models import CataloguePush, ExamPaper, Package
from referrals.accounts.services import balance_pull
from referrals.models import AccountStatus, ReferralAccount
from sandbox.server import SandboxServer
from sandbox.state import DEMO_DIRECTORY
from tests.second_factor import totp_code


@pytest.mark.django_db(transaction=True)
def test_the_demo_shows_the_product_working_and_seeds_once(sandbox, settings):
    settings.DEBUG = True
    settings.SANDBOX_DIRECTORY_FILE = str(DEMO_DIRECTORY)
    call_command("bootstrap_demo")
    call_command("bootstrap_demo")  # every ./dev run starts with it

    assert CustomFieldDefinition.objects.count() == 3 and VendorCustomer.objects.count() == 3
    bindings = dict(EcoAccountBinding.objects.values_list("account_id", "status"))
    assert bindings == {
        "demo-bound-1": BindingStatus.BOUND,
        "demo-review-1": BindingStatus.NEEDS_REVIEW,
        "demo-exam-1": BindingStatus.BOUND,
    }
    assert (Package.objects.count(), ExamPaper.objects.count()) == (2, 1)
    # The sandbox forgets at every start: both scopes are published again each time.
    assert list(FieldPublish.objects.values_list("status", flat=True)) == [CallStatus.SUCCEEDED] * 4
    accounts = {a.name: a for a in ReferralAccount.objects.prefetch_related("cash")}
    assert set(accounts) == {"王芳", "李娜", "陈静", "Emily Carter"}
    assert accounts["王芳"].points == 120 and [str(c) for c in accounts["王芳"].cash.all()] == ["56.50 CNY"]
    assert accounts["Emily Carter"].status == AccountStatus.DEACTIVATED
    assert FeishuEvent.objects.filter(status=EventStatus.FAILED).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.second_factor_unproven
def test_the_demo_login_comes_with_the_link_that_sets_up_its_second_factor(client, sandbox, settings):
    """The demo admin is a superuser: a second factor before anything opens, and a password
    alone cannot set one up (docs/second-factor.md). ./dev run prints the login and an enrolment link."""
    settings.DEBUG, settings.SANDBOX_DIRECTORY_FILE = True, str(DEMO_DIRECTORY)
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    printed = out.getvalue()
    assert "Demo login created: admin / hireops-demo" in printed
    (link,) = re.findall(r"http://127\.0\.0\.1:8000(/accounts/second-factor/link/\S+/)", printed)

    assert client.post("/admin/login/", {"username": "admin", "password": "hireops-demo"}).status_code == 302
    guide = client.get("/admin/", follow=True).content.decode()
    assert 'id="enrol-proof"' in guide and 'id="enrol-totp"' not in guide  # the password alone: no
    assert client.get(link, follow=True).status_code == 200
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    resp = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(client.session["mfa.totp.secret"])})
    assert resp.status_code == 302 and client.get("/admin/").status_code == 200

    out = StringIO()
    call_command("bootstrap_demo", stdout=out)  # the next ./dev run: enrolled, no link
    assert "/accounts/second-factor/link/" not in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_demo_accounts_are_the_ones_the_demo_sandbox_has(settings):
    """./dev run's sandbox reads the same file: a pull finds the balance the demo shows."""
    server = SandboxServer(
        app_id=settings.FEISHU_APP_ID, app_secret=settings.FEISHU_APP_SECRET, directory_file=DEMO_DIRECTORY
    ).start()
    try:
        settings.FEISHU_BASE_URL, settings.DEBUG = server.url, True
        call_command("bootstrap_demo")
        wang = ReferralAccount.objects.get(name="王芳")
        server.state.accounts[wang.account_id].points += 5  # a bonus confirmed meanwhile
        balance_pull(wang.pk)
        wang.refresh_from_db()
        assert (wang.points, wang.balance_error) == (125, "")
        # The demo's bound accounts offer the demo's catalogue: the README's orders can be placed.
        assert set(CataloguePush.objects.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}
        offered = {c["account_id"]: c for c in server.state.snapshot()["catalogues"]}
        assert set(offered["demo-bound-1"]["packages"]) == {"pkg-basic", "pkg-senior"}
        assert [p["id"] for p in offered["demo-exam-1"]["papers"]] == ["paper-spring"]
    finally:
        server.stop()


@pytest.mark.django_db
def test_the_navigation_shows_the_schedules_once_and_names_its_sections(client, staff_user):
    for role in ("HR", "Auditor"):
        client.force_login(staff_user(role))
        page = client.get("/admin/").content.decode()
        assert "/admin/django_celery_beat/periodictask/" in page
        for hidden in ("intervalschedule", "crontabschedule", "clockedschedule", "solarschedule"):
            assert f"/admin/django_celery_beat/{hidden}/" not in page, (role, hidden)
        assert "Audit trail" in page and ">hireops<" not in page.lower()
    # A schedule's timing is chosen on its own page (tests/test_schedules.py): the interval and
    # crontab rows behind it have no pages.
    client.force_login(staff_user("HR", username="hr2"))
    assert client.get("/admin/django_celery_beat/intervalschedule/add/").status_code == 404


@pytest.mark.django_db
def test_the_event_log_names_event_types_in_each_language(client, staff_user):
    FeishuEvent.objects.create(
        event_id="e1", schema="2.0", event_type="hire.eco_account.created_v1", payload={}
    )
    FeishuEvent.objects.create(
        event_id="e2", schema="2.0", event_type="hire.referral_account.assets_update_v1", payload={}
    )
    client.force_login(staff_user("Auditor"))
    page = client.get("/admin/events/feishuevent/").content.decode()
    assert "Account bound" in page and "hire.eco_account.created_v1" in page
    assert "Referral balance changed" in page
    chinese = client.get("/admin/events/feishuevent/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "账号绑定" in chinese and "内推账户余额变更" in chinese

    client.force_login(staff_user("HR"))  # the type filter offers the role's own types only
    page = client.get("/admin/events/feishuevent/").content.decode()
    assert "?event_type=hire.referral_account.assets_update_v1" in page
    assert "?event_type=hire.eco_account.created_v1" not in page
