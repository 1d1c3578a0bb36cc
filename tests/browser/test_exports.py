"""HR, in Chinese, exports every account of a long list: the export becomes a background job
whose page offers the file, masked as HR sees the list."""

import io
from pathlib import Path

import openpyxl
import pytest

from referrals.models import AccountStatus, ReferralAccount

from .admin_ui import expect, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hr_exports_every_account_in_the_background_and_downloads_it(zh_page, staff_user, settings, tmp_path):
    page = zh_page
    settings.EXPORT_INLINE_MAX = 5  # 30 rows are "large" here
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {**settings.STORAGES["exports"], "OPTIONS": {"location": str(tmp_path / "exports")}},
    }
    ReferralAccount.objects.bulk_create(
        ReferralAccount(
            name=f"员工{i:02d}",
            email=f"e{i}@example.com",
            mobile_code="86",
            mobile_number=f"138001380{i:02d}",
            account_id=f"acc-{i}",
            status=AccountStatus.ACTIVE,
        )
        for i in range(30)
    )
    log_in(page, staff_user("HR"))
    page.goto("/admin/referrals/referralaccount/")
    page.locator("#action-toggle").check()  # this page's rows…
    page.locator("div.actions .question a").click()  # …then all 30 ("选中所有的 30 个")
    page.locator("select[name=action]").select_option("export_xlsx")
    page.locator("div.actions button[name=index]").click()

    expect(page.locator("ul.messagelist .info")).to_contain_text("后台")
    expect(page.locator(".field-status")).to_contain_text("可下载")  # eager here: already written
    expect(page.locator(".field-progress")).to_contain_text("30")
    screenshot(page, "export-1-ready")
    with page.expect_download() as download:
        page.locator("#export-download").click()
    assert download.value.suggested_filename.startswith("referral-accounts-")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 31 and rows[0][0] == "员工姓名"
    assert {r[1] for r in rows[1:]} == {f"+86 138****80{i:02d}" for i in range(30)}  # masked for HR
