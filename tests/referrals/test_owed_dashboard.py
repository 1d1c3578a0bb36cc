"""What the referral programme owes, on HR's dashboard: the cash the accounts hold at the end of
each day, one bar per currency and never a sum across currencies, the points in a chart of
their own, the same figures in the table and the exports, in both languages, for whoever may
open the referral accounts (HR, the Auditor) and for nobody else."""

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from hireops.core import trends
from hireops.core.auth import roles
from hireops.feishu import hire
from referrals.accounts.balances import Snapshot, balances_apply
from referrals.models import AccountStatus, BalanceChange, BalanceSource, ReferralAccount

from .test_money_trends_dashboard import table

pytestmark = pytest.mark.django_db
CASH, POINTS = "referral-cash-owed", "referral-points-owed"


def bonus(points: int, **cash: str) -> hire.Bonus:
    return hire.Bonus(point_bonus=points, cash=[hire.Cash(c, Decimal(a)) for c, a in cash.items()])


@pytest.fixture
def held():
    """Three days ago: 王小明 holds 100.10 CNY and 40 points. Today: he holds 70.00 CNY and
    3.50 USD, 李雷 (deactivated) 0.25 CNY and 10 points."""
    wang = ReferralAccount.objects.create(name="王小明", email="w@example.com", account_id="acc-1")
    li = ReferralAccount.objects.create(
        name="李雷", email="l@example.com", account_id="acc-2", status=AccountStatus.DEACTIVATED
    )
    balances_apply([Snapshot(wang.pk, bonus(40, CNY="100.10"), 1)], source=BalanceSource.EVENT)
    before = timezone.now() - timedelta(days=3)
    BalanceChange.objects.update(at=before)
    balances_apply(
        [
            Snapshot(wang.pk, bonus(0, CNY="70.00", USD="3.50"), 2),
            Snapshot(li.pk, bonus(10, CNY="0.25"), 3),
        ],
        source=BalanceSource.EVENT,
    )
    trends.mark("referrals.owed", [before])
    trends.recompute()
    return timezone.localdate(before), timezone.localdate()


def test_hr_sees_what_the_accounts_hold_each_day_per_currency(client, staff_user, held):
    before, today = held
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/").content.decode()
    assert '<title id="trend-referral-cash-owed-title">Cash owed on referral accounts, by currency' in page
    head, rows = table(page, CASH)
    assert head == ["Day", "CNY", "USD"]
    assert rows[f"{before:%Y-%m-%d}"] == ["100.10", "0.00"]
    assert rows[f"{before + timedelta(days=1):%Y-%m-%d}"] == ["100.10", "0.00"]  # a level, not a count
    assert rows[f"{today:%Y-%m-%d}"] == ["70.25", "3.50"]
    assert rows[f"{today - timedelta(days=29):%Y-%m-%d}"] == ["0.00", "0.00"] and len(rows) == 30
    head, points = table(page, POINTS)
    assert head == ["Day", "Points"]
    assert points[f"{before:%Y-%m-%d}"] == ["40"] and points[f"{today:%Y-%m-%d}"] == ["10"]
    trend_part = page.split('id="trends"', 1)[1]
    assert "王小明" not in trend_part and "李雷" not in trend_part  # sums only, no person
    # A year: a bar per week, its last day's level (today's in this week's).
    year = table(client.get("/admin/?period=year").content.decode(), CASH)[1]
    assert len(year) in (52, 53) and list(year.values())[-1] == ["70.25", "3.50"]


def test_the_exports_hold_the_tables_figures(client, staff_user, held):
    _before, today = held
    client.force_login(staff_user(roles.HR, roles.HR_WITHDRAWALS))
    csv = b"".join(client.get(f"/admin/trends/{CASH}.csv?period=quarter").streaming_content).decode()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0] == "day,CNY,USD" and f"{today:%Y-%m-%d},70.25,3.50" in lines and len(lines) == 92
    book = client.get(f"/admin/trends/{POINTS}.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == ["day", "Points"]
    assert [c.value for c in list(sheet.iter_rows())[-1]][1] == 10


def test_in_chinese(client, staff_user, held):
    _before, today = held
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "内推账户上应付的现金（按币种）" in page and "内推账户上应付的积分" in page
    head, rows = table(page, CASH)
    assert head[1:] == ["CNY", "USD"] and rows[f"{today:%Y-%m-%d}"] == ["70.25", "3.50"]
    assert table(page, POINTS)[0][1] == "积分"
    csv = b"".join(
        client.get(f"/admin/trends/{CASH}.csv", HTTP_ACCEPT_LANGUAGE="zh-hans").streaming_content
    ).decode()
    assert f"{today:%Y-%m-%d},70.25,3.50" in csv


@pytest.mark.parametrize(
    ("role", "sees"), [(roles.HR, True), (roles.AUDITOR, True), (roles.VENDOR_OPS, False), ("", False)]
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_only_who_may_open_the_accounts_sees_it(client, staff_user, held, role, sees, language):
    client.force_login(staff_user(*([role] if role else []), username=f"u-{role or 'none'}"))
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert (f'id="{CASH}"' in page) is sees and (f'id="{POINTS}"' in page) is sees
    for name in (CASH, POINTS):
        for fmt in ("csv", "xlsx"):
            answer = client.get(f"/admin/trends/{name}.{fmt}", HTTP_ACCEPT_LANGUAGE=language)
            assert answer.status_code == (200 if sees else 404)


def test_who_may_open_the_accounts_alone_sees_it(client, staff_user, held):
    client.force_login(staff_user(perms=["referrals.view_referralaccount"], username="accounts-only"))
    page = client.get("/admin/").content.decode()
    assert f'id="{CASH}"' in page and "referral-money-per-month" not in page
