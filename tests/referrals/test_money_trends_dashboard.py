"""HR's money trends on the dashboard: rewards and withdrawals per month, one bar per currency
and never a sum across currencies, the same figures in the table and the exports, in both
languages, for whoever may open the rewards and the withdrawals (HR, with or without the
withdrawals permission, the Auditor) and for nobody else."""

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from hireops.core import trends
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from referrals.models import ExternalReferralReward, ReferralAccount, RewardBonusType, Withdrawal
from referrals.rewards import trend as reward_trend
from referrals.withdrawals import trend as withdrawal_trend
from tests.trend_rollups import months_shown

pytestmark = pytest.mark.django_db
MONEY, COUNT = "referral-money-per-month", "referral-count-per-month"


@pytest.fixture
def paid():
    """This month: two CNY rewards (100.10 and 0.25), one USD reward of 7.00, 40 points, one
    refused and one deleted in Feishu (neither counted); a withdrawal of 50.05 CNY and 3 USD."""
    now = timezone.now()
    account = ReferralAccount.objects.create(name="王小明", email="w@example.com", account_id="acc-1")

    def reward(external_id, status=CallStatus.SUCCEEDED, deleted=False, **bonus):
        ExternalReferralReward.objects.create(
            external_id=external_id,
            employee_id="u1",
            name="王小明",
            rule_type=1,
            stage=2,
            status=status,
            finished_at=now,
            deleted_at=now if deleted else None,
            **bonus,
        )

    cash = {"bonus_type": RewardBonusType.CASH}
    reward("a", currency="CNY", amount=Decimal("100.10"), **cash)
    reward("b", currency="CNY", amount=Decimal("0.25"), **cash)
    reward("c", currency="USD", amount=Decimal("7.00"), **cash)
    reward("d", bonus_type=RewardBonusType.POINTS, points=40)
    reward("e", status=CallStatus.FAILED, currency="CNY", amount=Decimal("9.00"), **cash)
    reward("f", deleted=True, currency="CNY", amount=Decimal("5.00"), **cash)
    Withdrawal.objects.create(
        account=account,
        external_order_id="o1",
        bonus_types=[2],
        status=CallStatus.SUCCEEDED,
        finished_at=now,
        withdrawn_points=0,
        withdrawn_cash={"CNY": "50.05", "USD": "3.00"},
    )
    trends.mark(reward_trend.METRIC, [now])
    trends.mark(withdrawal_trend.METRIC, [now])
    trends.recompute()
    return f"{timezone.localdate():%Y-%m}"


def table(page: str, name: str) -> tuple[list[str], dict[str, list[str]]]:
    import re

    section = page.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]
    head = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', section)
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>[^<]*</td>)+)</tr>', section)
    return head, {label: re.findall(r">([^<]*)</td>", cells) for label, cells in rows}


def test_hr_sees_each_currency_apart_and_the_numbers(client, staff_user, paid):
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/").content.decode()
    assert '<title id="trend-referral-money-per-month-title">Rewards and withdrawals per month' in page
    head, rows = table(page, MONEY)
    assert head[1:] == [
        "Rewards, CNY",
        "Withdrawals, CNY",
        "Rewards, USD",
        "Withdrawals, USD",
        "Rewards, points",
        "Withdrawals, points",
    ]
    assert rows[paid] == ["100.35", "50.05", "7.00", "3.00", "40", "0"]
    assert len(rows) == months_shown("30d")  # a month the 30 days reach into is shown whole
    _head, counts = table(page, COUNT)
    assert counts[paid] == ["4", "1"]
    year = table(client.get("/admin/?period=year").content.decode(), MONEY)[1]
    assert len(year) == months_shown("year") and year[paid] == rows[paid]
    assert "王小明" not in page.split('id="trends"', 1)[1]  # no chart names a person


def test_the_exports_hold_the_tables_figures(client, staff_user, paid):
    client.force_login(staff_user(roles.HR, roles.HR_WITHDRAWALS))
    csv = b"".join(client.get(f"/admin/trends/{MONEY}.csv?period=quarter").streaming_content).decode()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0] == (
        'month,"Rewards, CNY","Withdrawals, CNY","Rewards, USD","Withdrawals, USD",'
        '"Rewards, points","Withdrawals, points"'
    )
    assert f"{paid},100.35,50.05,7.00,3.00,40,0" in lines and len(lines) in (4, 5)
    book = client.get(f"/admin/trends/{MONEY}.xlsx?period=quarter")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    found = {row[0].value: [c.value for c in row[1:]] for row in sheet.iter_rows(min_row=2)}
    assert [Decimal(str(v)) for v in found[paid]] == [
        Decimal("100.35"),
        Decimal("50.05"),
        Decimal("7"),
        Decimal("3"),
        40,
        0,
    ]


def test_in_chinese(client, staff_user, paid):
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    head, rows = table(page, MONEY)
    assert "每月奖励与提现" in page and head[1] == "奖励, CNY" and rows[paid][0] == "100.35"


def test_figures_read_for_an_english_reader_are_shown_in_chinese_to_a_chinese_one(client, staff_user, paid):
    """Readers of one group share the figures whatever their language: the labels in them are
    translated when drawn."""
    client.force_login(staff_user(roles.HR, username="hr-en"))
    head, _rows = table(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode(), MONEY)
    assert head[1] == "Rewards, CNY"
    client.force_login(staff_user(roles.HR, username="hr-zh"))
    head, _rows = table(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode(), MONEY)
    assert head[1] == "奖励, CNY"


def test_only_who_may_open_the_rows_sees_them(client, staff_user, paid):
    client.force_login(staff_user(roles.AUDITOR))
    assert table(client.get("/admin/").content.decode(), MONEY)[1][paid][0] == "100.35"
    assert client.get(f"/admin/trends/{MONEY}.csv").status_code == 200
    client.force_login(staff_user(roles.VENDOR_OPS))
    page = client.get("/admin/").content.decode()
    assert MONEY not in page and COUNT not in page
    assert client.get(f"/admin/trends/{MONEY}.csv").status_code == 404
    assert client.get(f"/admin/trends/{COUNT}.xlsx").status_code == 404
    # Who may open the withdrawals only sees their bars, not the rewards'.
    client.force_login(staff_user(perms=["referrals.view_withdrawal"], username="w-only"))
    head, rows = table(client.get("/admin/").content.decode(), MONEY)
    assert head[1:] == ["Withdrawals, CNY", "Withdrawals, USD"]  # no points withdrawn: no bar
    assert rows[paid] == ["50.05", "3.00"]


def test_a_month_ago_stays_in_its_month(client, staff_user, paid):
    before = timezone.now() - timedelta(days=40)
    Withdrawal.objects.filter(external_order_id="o1").update(finished_at=before)
    trends.mark(withdrawal_trend.METRIC, [before, timezone.now()])
    trends.recompute()
    client.force_login(staff_user(roles.HR))
    rows = table(client.get("/admin/?period=quarter").content.decode(), MONEY)[1]
    assert rows[paid][1] == "0.00" and rows[f"{timezone.localtime(before):%Y-%m}"][1] == "50.05"


def test_each_payout_run_shows_what_it_paid_per_currency(client, staff_user):
    from referrals.models import PayoutLine, PayoutRun
    from referrals.payouts import trend as payout_trend

    now = timezone.now()
    run = PayoutRun.objects.create(title="十一月")
    for i, (status, cash) in enumerate(
        [
            (CallStatus.SUCCEEDED, {"CNY": "12.50"}),
            (CallStatus.SUCCEEDED, {"CNY": "0.05", "USD": "2.00"}),
            (CallStatus.FAILED, None),  # held or refused: paid nothing
        ]
    ):
        account = ReferralAccount.objects.create(
            name=f"员工{i}", email=f"p{i}@example.com", account_id=f"p{i}"
        )
        PayoutLine.objects.create(
            run=run,
            account=account,
            external_order_id=f"line-{i}",
            cash={"CNY": "12.50"},
            status=status,
            finished_at=now,
            withdrawn_cash=cash,
        )
    trends.mark(payout_trend.METRIC, [now])
    trends.recompute()
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/").content.decode()
    head, rows = table(page, "payout-runs-paid")
    label = f"#{run.pk} · {timezone.localdate():%Y-%m-%d}"
    assert head == ["Payout run", "CNY", "USD"] and rows == {label: ["12.55", "2.00"]}
    assert "十一月" not in page.split('id="payout-runs-paid"', 1)[1].split("</section>", 1)[0]
    csv = b"".join(client.get("/admin/trends/payout-runs-paid.csv").streaming_content).decode()
    assert csv.lstrip("\ufeff").splitlines() == ["payout run,CNY,USD", f"{label},12.55,2.00"]
    client.force_login(staff_user(roles.VENDOR_OPS))
    assert client.get("/admin/trends/payout-runs-paid.csv").status_code == 404
