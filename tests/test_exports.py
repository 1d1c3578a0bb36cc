"""CSV and Excel exports of accounts, withdrawals and bindings, masked like the screens."""

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from django.utils import timezone

from bindings.models import BindingStatus, EcoAccountBinding
from hireops.core.models import CallStatus
from referrals.models import AccountCash, AccountStatus, ReferralAccount, Withdrawal

pytestmark = pytest.mark.django_db


def export(client, url, pks):
    resp = client.post(url, {"action": "export_csv", "_selected_action": pks})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    body = resp.getvalue().decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the Chinese correctly
    return list(csv.reader(io.StringIO(body[1:])))


def export_xlsx(client, url, pks):
    """The workbook's rows, each cell written as the CSV writes it."""
    resp = client.post(url, {"action": "export_xlsx", "_selected_action": pks})
    assert resp.status_code == 200 and resp["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(resp.getvalue())).active

    def text(value):
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return "" if value is None else str(value)

    return [[text(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def account():
    a = ReferralAccount.objects.create(
        name="王芳",
        email="fang@example.com",
        mobile_code="86",
        mobile_number="13800138000",
        account_id="acc-1",
        status=AccountStatus.ACTIVE,
        points=40,
    )
    AccountCash.objects.create(account=a, currency="CNY", amount="8.80")
    return a


def test_accounts_export_masks_unless_permitted(client, staff_user, account):
    client.force_login(staff_user("HR"))
    header, row = export(client, "/admin/referrals/referralaccount/", [account.pk])
    assert header[:3] == ["employee name", "mobile", "email"]
    assert row[:3] == ["王芳", "+86 138****8000", "f***@example.com"]
    assert row[5:7] == ["40", "8.80 CNY"] and "13800138000" not in ",".join(row)

    client.force_login(staff_user("HR", username="hr-dpo", perms=["core.view_personal_data"]))
    _, row = export(client, "/admin/referrals/referralaccount/", [account.pk])
    assert row[1:3] == ["+86 13800138000", "fang@example.com"]


def test_auditor_exports_withdrawals_and_bindings(client, staff_user, account):
    w = Withdrawal.objects.create(
        account=account,
        external_order_id="o-1",
        bonus_types=[1, 2],
        status=CallStatus.SUCCEEDED,
        withdrawn_points=40,
        withdrawn_cash={"CNY": "8.80"},
        trans_time=1795300000000,
    )
    b = EcoAccountBinding.objects.create(
        app_id="a",
        tenant_key="t",
        account_id="x1",
        scope=1,
        account_name="客户 A",
        status=BindingStatus.NEEDS_REVIEW,
        usage_list=[1, 2],
        field_values_text="account_token=ABC\norg_id=7",
    )
    client.force_login(staff_user("Auditor"))
    _, row = export(client, "/admin/referrals/withdrawal/", [w.pk])
    assert row[0] == "o-1" and row[3:7] == ["Succeeded", "points, cash", "40", "8.80 CNY"]
    _, row = export(client, "/admin/bindings/ecoaccountbinding/", [b.pk])
    assert row[0] == "客户 A" and row[5] == "Needs review" and row[8] == "account_token=ABC; org_id=7"


def test_excel_export_has_the_csv_rows_masked_the_same_way(client, staff_user, account):
    url = "/admin/referrals/referralaccount/"
    client.force_login(staff_user("HR"))
    rows = export_xlsx(client, url, [account.pk])
    assert rows == export(client, url, [account.pk])
    assert rows[1][:3] == ["王芳", "+86 138****8000", "f***@example.com"]

    client.force_login(staff_user("HR", username="hr-dpo", perms=["core.view_personal_data"]))
    rows = export_xlsx(client, url, [account.pk])
    assert rows == export(client, url, [account.pk])
    assert rows[1][1:3] == ["+86 13800138000", "fang@example.com"]


def test_excel_exports_of_withdrawals_and_bindings_match_the_csv(client, staff_user, account):
    w = Withdrawal.objects.create(
        account=account, external_order_id="o-2", bonus_types=[1], withdrawn_points=40, requested_by=None
    )
    b = EcoAccountBinding.objects.create(
        app_id="a", tenant_key="t", account_id="x2", scope=2, account_name='=HYPERLINK("http://x")'
    )
    # Just before a whole second: Excel keeps milliseconds and would round this one up.
    late = timezone.now().replace(microsecond=999_900)
    Withdrawal.objects.filter(pk=w.pk).update(requested_at=late, finished_at=late)
    EcoAccountBinding.objects.filter(pk=b.pk).update(created_at=late, updated_at=late)
    client.force_login(staff_user("Auditor"))
    for url, pk in [("/admin/referrals/withdrawal/", w.pk), ("/admin/bindings/ecoaccountbinding/", b.pk)]:
        rows = export_xlsx(client, url, [pk])
        unguarded = [[c.removeprefix("'") for c in r] for r in export(client, url, [pk])]
        assert rows == unguarded, url
    assert export(client, url, [b.pk])[1][0] == '\'=HYPERLINK("http://x")'  # CSV: text, not a formula
    resp = client.post(url, {"action": "export_xlsx", "_selected_action": [b.pk]})
    sheet = openpyxl.load_workbook(io.BytesIO(resp.getvalue())).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=HYPERLINK")  # text, no formula
    assert isinstance(sheet["J2"].value, datetime)  # a real date Excel can sort


def test_rows_keep_their_own_cash_across_chunks(client, staff_user, monkeypatch):
    """Exports read the rows in chunks and load each chunk's cash in one query: a row must
    never get another chunk's (or another row's) amounts."""
    from hireops.core.spreadsheets import export as export_module

    monkeypatch.setattr(export_module, "CHUNK", 2)
    accounts = []
    for i in range(5):
        a = ReferralAccount.objects.create(
            name=f"员工{i}", email=f"e{i}@example.com", account_id=f"acc-{i}", status=AccountStatus.ACTIVE
        )
        for n, currency in enumerate(["CNY", "USD"][: i % 3]):
            AccountCash.objects.create(account=a, currency=currency, amount=f"{i}.{n}0")
        accounts.append(a)
    client.force_login(staff_user("HR"))
    url = "/admin/referrals/referralaccount/"
    pks = [a.pk for a in accounts]
    for rows in (export(client, url, pks), export_xlsx(client, url, pks)):
        cash = {row[3]: row[6] for row in rows[1:]}
        assert cash == {
            "acc-0": "—",
            "acc-1": "1.00 CNY",
            "acc-2": "2.00 CNY, 2.10 USD",
            "acc-3": "—",
            "acc-4": "4.00 CNY",
        }
        label = ReferralAccount(status=AccountStatus.ACTIVE).get_status_display()  # the page's language
        assert {row[4] for row in rows[1:]} == {label} and label != "active"
