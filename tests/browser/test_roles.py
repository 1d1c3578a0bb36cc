"""Each role logs in and sees its own part of the admin, and nothing else."""

from dataclasses import dataclass

import pytest

from referrals.models import AccountStatus, ReferralAccount

from .admin_ui import expect, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPS = ("bindings", "referrals", "events", "django_celery_beat", "auth", "axes")


@dataclass
class Role:
    groups: tuple[str, ...]
    apps: tuple[str, ...]  # the admin sections on the index; every other one of APPS is absent
    dashboard: str  # an item of the "Needs attention" box
    refused: str  # a page outside the role: answered 403
    withdraws: bool = False


ROLES = {
    "vendor-operations": Role(
        ("Vendor operations",),
        apps=("bindings", "events", "django_celery_beat"),
        dashboard="Bindings needing review",
        refused="/admin/referrals/referralaccount/",
    ),
    "hr": Role(
        ("HR",),
        apps=("referrals", "events", "django_celery_beat"),
        dashboard="Registrations failed",
        refused="/admin/bindings/ecoaccountbinding/",
    ),
    "hr-withdrawals": Role(
        ("HR", "HR withdrawals"),
        apps=("referrals", "events", "django_celery_beat"),
        dashboard="Withdrawals in progress",
        refused="/admin/auth/user/",
        withdraws=True,
    ),
    "auditor": Role(
        ("Auditor",),
        apps=("bindings", "referrals", "events", "django_celery_beat"),
        dashboard="Bindings needing review",
        refused="/admin/bindings/customfielddefinition/add/",
    ),
}


@pytest.mark.parametrize("name", ROLES)
def test_each_role_sees_only_its_part_of_the_admin(page, staff_user, name):
    role = ROLES[name]
    ReferralAccount.objects.create(
        name="王小明", email="xiaoming@example.com", account_id="acc-1", status=AccountStatus.ACTIVE
    )
    log_in(page, staff_user(*role.groups, username=f"{name}-user"))

    content = page.locator("#content-main")
    for app in APPS:
        section = content.locator(f"div.app-{app}")
        if app in role.apps:
            expect(section).to_be_visible()
        else:
            expect(section).to_have_count(0)
    expect(page.locator("#attention")).to_contain_text(role.dashboard)
    expect(page.get_by_role("link", name="View site")).to_have_count(0)
    if name == "auditor":
        expect(content.locator("a.addlink")).to_have_count(0)  # views everything, adds nothing
    screenshot(page, f"roles-{name}-1-dashboard")

    if "referrals" in role.apps:
        page.goto("/admin/referrals/referralaccount/")
        expect(page.locator("#result_list")).to_contain_text("王小明")
        withdraw = page.locator("select[name=action] option[value=withdraw]")
        expect(withdraw).to_have_count(1 if role.withdraws else 0)
        screenshot(page, f"roles-{name}-2-referral-accounts")

    response = page.goto(role.refused)
    assert response.status == 403, f"{name} reached {role.refused}"
