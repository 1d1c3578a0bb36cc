"""The big lists on a 1366 × 768 laptop screen, as the store app's demo fills them: every column
in sight beside the filters, none scrolled away behind them, and a status on one line ("已启/用"
was one word broken in two). In Chinese, the language the admin is used in, and in English, whose
longer words pushed seven lists past their box."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from bindings.models import FieldPublish, Scope, VendorCustomer
from hireops.core import audit
from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent, RefusalStatus, RejectedDelivery, RejectionKind
from hireops.events.services import REPROCESSED
from hireops.feishu import save_app_ticket
from hireops.tenants.models import Tenant, TenantStatus
from orders.catalogue.models import Catalogue, CatalogueRollout, RolloutStatus
from orders.models import BackgroundCheck, CheckState, Exam, OrderWrite, WriteKind
from referrals.models import (
    AccountStatus,
    ExternalReferralReward,
    Leaver,
    LeaverHow,
    LeaverMatch,
    LeaverPolicy,
    LeaverState,
    ReferralAccount,
    RewardBonusType,
    Withdrawal,
)
from sandbox.state import DEMO_DIRECTORY

from .admin_ui import expect, log_in_as, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
LOCALES = {"zh": "zh-CN", "en": "en-US"}
LISTS = {
    "tenants": "/admin/tenants/tenant/",
    "events": "/admin/events/feishuevent/",
    "rejected-deliveries": "/admin/events/rejecteddelivery/",
    "referral-accounts": "/admin/referrals/referralaccount/",
    "withdrawals": "/admin/referrals/withdrawal/",
    "bindings": "/admin/bindings/ecoaccountbinding/",
    "custom-fields": "/admin/bindings/customfielddefinition/",
    "field-publishes": "/admin/bindings/fieldpublish/",
    "background-checks": "/admin/orders/backgroundcheck/",
    "exams": "/admin/orders/exam/",
    "order-writes": "/admin/orders/orderwrite/",
    "catalogue-pushes": "/admin/orders/cataloguepush/",
    "users": "/admin/auth/user/",
    "history": "/admin/core/changehistoryentry/",
    # The widest in English, whose words are longer than the Chinese.
    "leavers": "/admin/referrals/leaver/",
    "external-rewards": "/admin/referrals/externalreferralreward/",
    "order-form-fields": "/admin/orders/formfield/",
    "exam-papers": "/admin/orders/exampaper/",
    "catalogue-rollouts": "/admin/orders/cataloguerollout/",
}

# Where the list's table ends against its container, the filter panel and the screen, and the
# cells of one short word (four characters at most) that take more than one line.
MEASURE = """() => {
    const table = document.querySelector('#result_list');
    if (!table) return null;
    const box = table.closest('.results');
    const filter = document.querySelector('#changelist-filter');
    const lines = (cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const bottoms = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.bottom);
        bottoms.sort((a, b) => a - b);
        return bottoms.filter((b, i) => i === 0 || b - bottoms[i - 1] > 6).length;
    };
    const broken = [...table.querySelectorAll('tbody td, tbody th')]
        .filter(cell => { const t = cell.innerText.trim(); return t && t.length <= 4 && !/\\s/.test(t); })
        .filter(cell => lines(cell) > 1)
        .map(cell => cell.innerText.trim());
    return {
        right: table.getBoundingClientRect().right,
        boxRight: box.getBoundingClientRect().right,
        hidden: box.scrollWidth - box.clientWidth,
        filterLeft: filter ? filter.getBoundingClientRect().left : null,
        rows: table.querySelectorAll('tbody tr').length,
        broken,
    };
}"""


@pytest.fixture
def store_demo(sandbox, settings, django_user_model):
    """`FEISHU_APP_TYPE=store ./dev run` after a while: the demo, its customer tenants (one
    named), orders with their writes, a delivery refused."""
    settings.DEBUG, settings.FEISHU_APP_TYPE = True, "store"
    settings.SANDBOX_DIRECTORY_FILE, settings.LANGUAGE_CODE = str(DEMO_DIRECTORY), "zh-hans"
    save_app_ticket(settings.FEISHU_APP_ID, sandbox.push_app_ticket()["event"]["app_ticket"])
    call_command("bootstrap_demo", password="Pw-123456!")
    Tenant.objects.get_or_create(tenant_key="demo-tenant")
    Tenant.objects.update_or_create(tenant_key="acme-tenant", defaults={"name": "Acme 集团"})
    Tenant.objects.update_or_create(tenant_key="globex-tenant", defaults={"status": TenantStatus.UNINSTALLED})
    admin = django_user_model.objects.get(username="admin")
    acme = VendorCustomer.objects.filter(name__startswith="Acme").first()
    order = {"app_id": settings.FEISHU_APP_ID, "tenant_key": "demo-tenant", "customer": acme}
    check = BackgroundCheck.objects.create(
        **order,
        account_id="7300675657947577000",
        background_check_id="7300675657947577002",
        package_id="pkg-senior",
        candidate_name="欧阳晓明",
        candidate_mobile_code="86",
        candidate_mobile="13800001234",
        state=CheckState.IN_PROGRESS,
    )
    exam = Exam.objects.create(
        **order, account_id="7300675657947577001", exam_id="7300675657947577003", paper_id="paper-spring"
    )
    for kind, target in (
        (WriteKind.PROGRESS, {"background_check": check}),
        (WriteKind.LOGIN, {"exam": exam}),
    ):
        OrderWrite.objects.create(
            kind=kind,
            tenant_key="demo-tenant",
            status=CallStatus.FAILED,
            attempts=3,
            error_code=1002855,
            log_id="20261124143000A1B2C3D4E5F6A7B8C9D0",
            requested_by=admin,
            **target,
        )
    Withdrawal.objects.create(
        account=ReferralAccount.objects.filter(status=AccountStatus.ACTIVE).first(),
        external_order_id="wd-20261124-0001",
        bonus_types=[1, 2],
        expected_points=120,
        expected_cash={"CNY": "56.50"},
        status=CallStatus.SUCCEEDED,
        attempts=1,
        requested_by=admin,
    )
    Leaver.objects.create(
        tenant_key="demo-tenant",
        open_id="ou_leaver",
        name="陈静",
        how=LeaverHow.RESIGNED,
        source_event_id="evt-leaver",
        match=LeaverMatch.MATCHED,
        account=ReferralAccount.objects.first(),
        policy=LeaverPolicy.NEXT_RUN,
        points_then=0,
        cash_then={"CNY": "200.00"},
        state=LeaverState.AWAITING_RUN,
    )
    ExternalReferralReward.objects.create(
        tenant_key="demo-tenant",
        external_id="reward-20261124-0001",
        employee_id="u81cb3999",
        name="陈静",
        rule_type=1,
        stage=2,
        bonus_type=RewardBonusType.POINTS,
        points=50,
        status=CallStatus.SUCCEEDED,
        requested_by=admin,
    )
    CatalogueRollout.objects.create(
        catalogue=Catalogue.FORM_FIELDS, status=RolloutStatus.DONE, total=1, considered=1, queued=1
    )
    FieldPublish.objects.create(
        scope=Scope.BACKGROUND_CHECK,
        tenant_key="acme-tenant",
        status=CallStatus.FAILED,
        attempts=2,
        error_code=1002001,
        log_id="20261124143000A1B2C3D4E5F6A7B8C9D0",
        requested_by=admin,
    )
    audit.record(admin, FeishuEvent.objects.filter(status=EventStatus.FAILED), REPROCESSED)
    RejectedDelivery.objects.create(
        received_at=timezone.now(),
        kind=RejectionKind.choices[0][0],
        reason="signature mismatch",
        status=RefusalStatus.choices[0][0],
        remote_addr="203.0.113.7",
    )
    # A hostile sender's X-Forwarded-For, as long as it is kept (255 characters), from IPv6.
    chain = ",".join(f"2001:db8::{i:x}" for i in range(40))[:255]
    RejectedDelivery.objects.create(
        received_at=timezone.now(),
        kind=RejectionKind.choices[0][0],
        reason="signature mismatch",
        status=RefusalStatus.choices[0][0],
        remote_addr="2001:db8:85a3:0:0:8a2e:370:7334",
        forwarded_for=chain,
    )


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_big_list_fits_beside_its_filters_on_a_laptop(browser, live_server, store_demo, language):
    context = browser.new_context(base_url=live_server.url, locale=LOCALES[language], viewport=LAPTOP)
    page = context.new_page()
    try:
        log_in_as(page, "admin", "Pw-123456!")
        for name, url in LISTS.items():
            page.goto(url)
            expect(page.locator("#content")).to_be_visible()
            screenshot(page, f"layout-{name}-1366-{language}")
            seen = page.evaluate(MEASURE)
            assert seen and seen["rows"], f"{name}: no rows to measure"
            assert seen["hidden"] <= 0, f"{name}: {seen['hidden']} px of columns scrolled out of sight"
            assert seen["right"] <= seen["boxRight"] + 1, f"{name}: the table overflows its container"
            if seen["filterLeft"] is not None:
                assert seen["right"] <= seen["filterLeft"], f"{name}: the table runs under the filters"
            assert seen["right"] <= LAPTOP["width"], f"{name}: wider than the screen"
            assert not seen["broken"], f"{name}: short words over two lines: {seen['broken']}"
        # The events' columns beside the filters are in sight, their headers short.
        page.goto(LISTS["events"])
        for header in {"zh": ("尝试次数", "重复推送"), "en": ("Attempts", "Duplicate deliveries")}[language]:
            expect(page.locator("#result_list thead")).to_contain_text(header, ignore_case=True)
    finally:
        context.close()
