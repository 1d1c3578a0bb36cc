"""HR's chart of the leavers on the dashboard: per month they arrived in, how many, stacked by
what became of them, the same figures in the table and the exports, in both languages, for
every role that may open the leavers and for no other; counts only, never a name."""

import io
import re
from collections import Counter
from datetime import timedelta

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from hireops.core import trends
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from referrals.leavers import trend as leaver_trend
from referrals.models import (
    Leaver,
    LeaverHow,
    LeaverMatch,
    LeaverPolicy,
    LeaverState,
    ReferralAccount,
    Withdrawal,
)
from tests.trend_rollups import months_shown

pytestmark = pytest.mark.django_db
NAME = "leavers-per-month"
HEAD = [
    "month",
    "Paid in a payout run, then deactivated",
    "Paid at once, then deactivated",
    "Deactivated, balance recorded",
    "No referral account",
    "Marked as handled outside hireops",
    "In progress",
    "Needs a person",
]


@pytest.fixture
def arrived():
    """This month: one paid by a run, one paid at once, two deactivated (the policy; nothing in
    cash), one without an account, one marked as handled, one paying, one needing a person.
    Forty days ago: one paid by a run. Each named, none of the names in the chart."""
    now = timezone.now()
    account = ReferralAccount.objects.create(name="王小明", email="w@example.com", account_id="acc-1")
    paid = Withdrawal.objects.create(
        account=account, external_order_id="o1", bonus_types=[2], status=CallStatus.SUCCEEDED, finished_at=now
    )
    cash = {"CNY": "12.50"}
    made = [
        ("王一", LeaverState.DONE, LeaverPolicy.NEXT_RUN, LeaverMatch.MATCHED, cash, {}),
        ("王二", LeaverState.DONE, LeaverPolicy.AT_ONCE, LeaverMatch.MATCHED, cash, {"withdrawal": paid}),
        ("王三", LeaverState.DONE, LeaverPolicy.DEACTIVATE, LeaverMatch.MATCHED, cash, {}),
        ("王四", LeaverState.DONE, LeaverPolicy.NEXT_RUN, LeaverMatch.MATCHED, {}, {}),
        ("王五", LeaverState.DONE, "", LeaverMatch.NO_ACCOUNT, None, {}),
        (
            "王六",
            LeaverState.DONE,
            LeaverPolicy.NEXT_RUN,
            LeaverMatch.MATCHED,
            cash,
            {"handled_by_hand": True},
        ),
        ("王七", LeaverState.PAYING, LeaverPolicy.AT_ONCE, LeaverMatch.MATCHED, cash, {}),
        ("王八", LeaverState.NEEDS_PERSON, "", LeaverMatch.NONE, None, {}),
        ("王九", LeaverState.DONE, LeaverPolicy.NEXT_RUN, LeaverMatch.MATCHED, cash, {}),
    ]
    for i, (name, state, policy, match, cash_then, more) in enumerate(made):
        Leaver.objects.create(
            open_id=f"ou_{i}",
            name=name,
            how=LeaverHow.RESIGNED,
            source_event_id=f"e{i}",
            state=state,
            policy=policy,
            match=match,
            cash_then=cash_then,
            **more,
        )
    before = now - timedelta(days=40)
    Leaver.objects.filter(name="王九").update(created_at=before)
    trends.mark(leaver_trend.METRIC, [now, before])
    trends.recompute()
    return f"{timezone.localdate():%Y-%m}", f"{timezone.localtime(before):%Y-%m}"


def table(page: str) -> tuple[list[str], dict[str, list[str]]]:
    section = page.split(f'id="{NAME}"', 1)[1].split("</section>", 1)[0]
    head = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', section)
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>[^<]*</td>)+)</tr>', section)
    return head, {label: re.findall(r">([^<]*)</td>", cells) for label, cells in rows}


def test_hr_sees_each_month_by_outcome_and_no_name(client, staff_user, arrived):
    this_month, earlier = arrived
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/?period=quarter").content.decode()
    assert f'<title id="trend-{NAME}-title">Leavers per month, by what became of them</title>' in page
    head, rows = table(page)
    assert [h.lower() for h in head] == [h.lower() for h in HEAD]
    assert rows[this_month] == ["1", "1", "2", "1", "1", "1", "1"]
    assert rows[earlier] == ["1", "0", "0", "0", "0", "0", "0"]
    trends_part = page.split('id="trends"', 1)[1]
    assert not re.search("王[一二三四五六七八九]|王小明", trends_part)  # counts only: nobody named
    # Stacked: a bar per month holds every outcome, one on the other.
    svg = trends_part.split(f'id="{NAME}"', 1)[1].split("</svg>", 1)[0]
    bars = re.findall(
        r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"',
        svg.split('class="trend-bars"', 1)[1].split("</g>", 1)[0],
    )
    # Two months with leavers: one bar of seven parts, one of one, all as wide.
    assert sorted(Counter(x for x, _w in bars).values()) == [1, 7] and len({w for _x, w in bars}) == 1


def test_the_exports_hold_the_tables_figures(client, staff_user, arrived):
    this_month, _earlier = arrived
    client.force_login(staff_user(roles.HR))
    csv = b"".join(client.get(f"/admin/trends/{NAME}.csv?period=quarter").streaming_content).decode()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].lower() == ",".join(f'"{h}"' if "," in h else h for h in HEAD).lower()
    assert f"{this_month},1,1,2,1,1,1,1" in lines
    book = client.get(f"/admin/trends/{NAME}.xlsx?period=year")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    found = {row[0].value: [c.value for c in row[1:]] for row in sheet.iter_rows(min_row=2)}
    assert found[this_month] == [1, 1, 2, 1, 1, 1, 1] and len(found) == months_shown("year")


def test_in_chinese(client, staff_user, arrived):
    this_month, _earlier = arrived
    client.force_login(staff_user(roles.HR))
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    head, rows = table(page)
    assert "每月离职员工" in page and head[-1] == "需要人工处理" and rows[this_month][2] == "2"


@pytest.mark.parametrize("role", [roles.HR, roles.AUDITOR, *roles.STAFF_ROLES])
def test_only_roles_that_may_open_the_leavers_see_them(client, staff_user, arrived, role):
    user = staff_user(role, username=f"u-{role}".replace(" ", "-"))
    may = user.has_perm("referrals.view_leaver")
    client.force_login(user)
    assert (f'id="{NAME}"' in client.get("/admin/").content.decode()) is may
    assert client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode().count(f'id="{NAME}"') == may
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/admin/trends/{NAME}.{fmt}").status_code == (200 if may else 404)
    # Not an empty pass: HR and the Auditor may, Vendor operations may not.
    assert may is (role in (roles.HR, roles.AUDITOR))


def test_the_permission_alone_is_what_counts(client, staff_user, arrived):
    user = staff_user(roles.VENDOR_OPS, username="ops-with-leavers")
    client.force_login(user)
    assert client.get(f"/admin/trends/{NAME}.csv").status_code == 404
    user.user_permissions.add(Permission.objects.get(codename="view_leaver"))
    user = type(user).objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(f"/admin/trends/{NAME}.csv").status_code == 200
