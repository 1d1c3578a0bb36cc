"""Rows for every model the admin shows, so the crawl (test_crawl.py) finds a change page for
each: the demo of ``manage.py bootstrap_demo``, in a store app with customer tenants that
installed it, plus what the demo lacks (orders, writes, jobs, incidents, heartbeats, sign-in
records), made as the product makes them where that is cheap: through the sandbox's Feishu,
the services, a refused password.
"""

import time
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessFailureLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from bindings.models import EcoAccountBinding
from bindings.publishing import fields_publish_request
from demo.seeds.bindings import RULES
from hireops.api import keys as api_keys
from hireops.core.auth.roles import sync_roles
from hireops.core.models import CallStatus
from hireops.core.schedules.registry import sync_schedules
from hireops.core.secrets import sealing
from hireops.events.models import EventStatus, FeishuEvent, RejectedDelivery
from hireops.feishu import get_client
from hireops.jobs.exports import export_run
from hireops.jobs.models import ExportJob
from hireops.jobs.services import jobs_start
from hireops.ops import alerts
from hireops.ops.heartbeat import beat_once
from hireops.signin.models import EnrolmentLink, FactorChange, FeishuInvitation, SecurityNotice
from hireops.tenants.models import Tenant
from hireops.webhooks import endpoints as webhook_endpoints
from hireops.webhooks import events as webhook_events
from hireops.webhooks.models import DeliveryAttempt, WebhookDelivery
from orders.catalogue.models import CataloguePush
from orders.models import BackgroundCheck, Exam
from orders.writes import stage_request
from referrals import bulk as referral_operations
from referrals.models import Leaver, PayoutRun, PayoutRunStatus, ReferralAccount
from referrals.withdrawals.services import reconciliation_request
from tests.conftest import STAFF_PASSWORD
from tests.feishu.conftest import forget_tokens
from tests.second_factor import give_totp

TENANTS = ("demo-tenant", "acme-tenant")  # demo-tenant: the demo's referral accounts and bindings


def wait_until(condition, what: str, timeout: float = 20.0) -> None:
    """Feishu's pushes reach the live server's webhook and are handled on its threads."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seeded within {timeout} s: {what}")
        time.sleep(0.1)


def seed_every_model(feishu, settings, tmp_path):
    """The demo and a row of every registered model; returns the demo's superuser."""
    settings.DEBUG = True  # bootstrap_demo's condition (set back below: pages as production serves them)
    settings.FEISHU_APP_TYPE = "store"  # a store app's admin shows all a self-built one does, and tenants
    settings.FEISHU_COORDINATION_URL = f"file://{tmp_path / 'coord'}"
    settings.ALERT_EMAILS, settings.ALERT_FEISHU_BOT_URL = [], ""
    settings.SANDBOX_STATE_FILE = str(tmp_path / "sandbox-state.json")  # none: Feishu starts from its seed
    forget_tokens(get_client())
    sync_roles()  # the rows migrate makes (a transactional test starts from a flushed database)
    sync_schedules()

    feishu.push_app_ticket()  # a store app's tokens need it (the server pushed one at start, too)
    for key in TENANTS:
        feishu.install_tenant(key)  # app_open through the webhook: the tenant, its status history
    wait_until(lambda: Tenant.objects.filter(tenant_key__in=TENANTS).count() == len(TENANTS), "tenants")
    Tenant.objects.filter(tenant_key="acme-tenant").update(name="Acme 科技")
    call_command("bootstrap_demo", password=STAFF_PASSWORD, verbosity=0)
    settings.DEBUG = False
    root = get_user_model().objects.get(username="admin")
    give_totp(root)  # its withdrawals and rewards move money: nothing until it has a second factor
    for scope in RULES:  # the demo's fields came after the tenants: sent to them now
        fields_publish_request(scope, user=root)

    _orders(feishu, root)
    _referrals(feishu, root)
    _operations(root)
    _sign_in_records(root)
    _webhooks(root)
    return root


def _webhooks(root) -> None:
    """A partner's endpoint and a delivery to it that failed once (its attempt in the log)."""
    endpoint, _ = webhook_endpoints.create(
        url="http://127.0.0.1:9/hooks", description="案件平台", scopes=["orders:read"], by=root
    )
    with transaction.atomic():
        event = webhook_events.record(webhook_events.get(webhook_events.PING), endpoint, [endpoint])
    delivery = event.deliveries.get()
    DeliveryAttempt.objects.create(
        delivery=delivery, duration_ms=120, status_code=500, response="服务暂时不可用"
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=1, last_status_code=500, error="HTTP 500")


def _orders(feishu, root) -> None:
    feishu.bind_account(
        scope=1,
        account_name="Acme 背调（华东）",
        account_id="crawl-check-account",
        tenant_key="demo-tenant",
        custom_field_list=[{"key": "org_id", "value": "ACME-001"}],
    )
    feishu.bind_account(
        scope=2,
        account_name="Acme 笔试（华东）",
        account_id="crawl-exam-account",
        tenant_key="demo-tenant",
        custom_field_list=[{"key": "exam_org", "value": "EX-ACME"}],
    )
    wait_until(
        lambda: EcoAccountBinding.objects.filter(account_id__startswith="crawl-").count() == 2, "accounts"
    )
    # Feishu takes orders only for what an account offers: each binding's catalogue push (sent
    # after its event's commit, on the live server's thread) must have reached the sandbox.
    pushed = CataloguePush.objects.filter(
        binding__account_id__startswith="crawl-", status=CallStatus.SUCCEEDED
    )
    wait_until(lambda: pushed.values("binding").distinct().count() == 2, "catalogues")
    feishu.create_background_check(
        "crawl-check-account",
        tenant_key="demo-tenant",
        package_id="pkg-senior",
        comment="请优先核实最近一段工作经历",
        candidate={"name": "王二", "mobile": "18900001111", "email": "er.wang@example.com"},
    )
    feishu.create_exam(
        "crawl-exam-account", tenant_key="demo-tenant", paper_id="paper-spring", candidate={"name": "李四"}
    )
    wait_until(lambda: BackgroundCheck.objects.exists() and Exam.objects.exists(), "orders")
    check = BackgroundCheck.objects.get()
    stage_request(check, name="资料核实", en_name="Verification", time_ms=int(time.time() * 1000), user=root)


def _referrals(feishu, root) -> None:
    # HR withdraws two balances as a background job: the job, its items, the withdrawals and
    # their change history.
    accounts = list(ReferralAccount.objects.order_by("pk")[:3])
    jobs_start(referral_operations.withdraw, accounts[:2], {"bonus_types": [1, 2]}, root, language="zh-hans")
    # An export of every account, written as a worker writes it: its page offers the file.
    export = ExportJob.objects.create(
        source="referrals.referralaccount",
        file_format="xlsx",
        sealed_query=sealing.seal(""),
        requested_by=root,
        language="zh-hans",
        download_name="referral-accounts.xlsx",
        file_name="export-crawl.xlsx",
        expires_at=timezone.now() + timedelta(hours=24),
    )
    export_run(export.pk)
    # The third account's employee resigns in Feishu: a leaver (the directory event, the policy).
    leaving = accounts[2]
    user_id = next(a["user_id"] for a in feishu.state()["accounts"] if a["account_id"] == leaving.account_id)
    feishu.employee_leave(user_id, how="resign", tenant_key=leaving.tenant_key)
    wait_until(lambda: Leaver.objects.exists(), "a leaver")
    now = timezone.now()
    reconciliation_request(now - timedelta(days=1), now, user=root, tenant_key="demo-tenant")
    _payouts_and_rewards(feishu, root, accounts[2])


def _payouts_and_rewards(feishu, root, leaving) -> None:
    """A run paid (approved by a colleague), one waiting for approval, an external reward and
    its deletion, the paid account deactivated."""
    from hireops.core.auth import roles
    from hireops.signin import identities
    from referrals.payouts import services as payouts
    from referrals.rewards import services as rewards

    approver = get_user_model().objects.create_user("crawl-approver", is_staff=True)
    approver.groups.add(*Group.objects.filter(name__in=[roles.HR, roles.HR_PAYOUT_APPROVALS]))
    give_totp(approver)  # the approve permission does nothing without a second factor
    # Linked to Feishu (李娜): the run waiting for approval sends her a message from the app.
    identities.link_identity(approver, "ou_demo1002", "demo-tenant")

    from referrals.accounts.services import account_register, account_status_request, balance_pull, person
    from referrals.models import StatusAction

    funded = []
    for name, email in (("赵六", "liu.zhao@demo.example.com"), ("钱七", "qi.qian@demo.example.com")):
        feishu.add_employee(name=name, email=email, tenant_key="demo-tenant")
        account = account_register(person(name=name, email=email), root, "demo-tenant")
        account.refresh_from_db()
        feishu.grant_bonus(account.account_id, cash=[{"currency_type": "CNY", "amount": "66.00"}])
        balance_pull(account.pk)
        funded.append(account.pk)
    payouts.payout_prepare(root, pks=funded[:1], title="十一月")  # waits
    paid = payouts.payout_prepare(root, pks=funded[1:], title="十月")
    payouts.payout_approve(paid.pk, approver)
    wait_until(lambda: PayoutRun.objects.get(pk=paid.pk).status == PayoutRunStatus.FINISHED, "a run paid")
    referrer = ReferralAccount.objects.get(pk=funded[0])
    user_id = next(a["user_id"] for a in feishu.state()["accounts"] if a["account_id"] == referrer.account_id)
    row = {"external_id": "crawl-1", "employee_id": user_id, "talent_id": "t-1", "rule_type": "1"}
    given = rewards.RewardInput.from_text({**row, "stage": "2", "points": "50"}, "demo-tenant")
    reward, _created = rewards.reward_add(given, root)
    reward.refresh_from_db()
    assert reward.status == CallStatus.SUCCEEDED, reward.error
    rewards.reward_delete_request(reward, "重复录入", root)
    paid_account = ReferralAccount.objects.get(pk=funded[1])
    account_status_request(paid_account, StatusAction.DEACTIVATE, root)
    wait_until(lambda: not ReferralAccount.objects.get(pk=paid_account.pk).pending_action, "deactivated")


def _operations(root) -> None:
    now = timezone.now()
    beat_once("celery@ops-host", "worker", "bulk,celery,events,webhooks", now)
    beat_once("beat@ops-host:1", "beat", "", now)
    beat_once("listener@ops-host:2", "listener", "", now, state=("connected", now))
    # An event that failed after its last retry opens an incident (the demo's own failed event
    # may still have a retry ahead).
    FeishuEvent.objects.create(
        event_id="crawl-given-up",
        schema="2.0",
        event_type="hire.referral_account.assets_update_v1",
        tenant_key="demo-tenant",
        payload={},
        status=EventStatus.FAILED,
        attempts=5,
    )
    alerts.alerts_run()
    RejectedDelivery.objects.create(
        received_at=now, kind="decrypt_failed", reason="body does not decrypt", status=400
    )


def _sign_in_records(root) -> None:
    user_model = get_user_model()
    hr = user_model.objects.create_user(
        "fang", password=STAFF_PASSWORD, is_staff=True, email="fang.wang@demo.example.com"
    )
    EmailAddress.objects.create(user=root, email=root.email, verified=True, primary=True)
    SocialAccount.objects.create(user=hr, provider="feishu", uid="ou_demo1001", extra_data={"name": "王芳"})
    FeishuInvitation.issue(hr, root, "na.li@demo.example.com")
    EnrolmentLink.issue(hr, root)
    api_keys.create("CRM sync", ["customers:read", "customers:write"], tenant_keys=["demo-tenant"], by=root)
    SecurityNotice.objects.create(
        user=hr,
        user_ref=hr.pk,
        actor=root,
        change=FactorChange.RESET,
        factors="totp",
        error="feishu_bot: HTTP 500",
    )
    # AXES_ENABLE_ACCESS_FAILURE_LOG is off, so no sign-in writes one; its admin is registered still.
    AccessFailureLog.objects.create(
        username="nobody",
        ip_address="203.0.113.7",
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/admin/login/",
        locked_out=False,
    )


def models_without_rows() -> list[str]:
    """Registered models the crawl would find no change page of (django-axes' records come
    from signing in: ask after the browser has)."""
    return [m._meta.label for m in admin.site._registry if not m._default_manager.exists()]
