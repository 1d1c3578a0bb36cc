"""Vendor operations retime their own schedule in the browser; HR does not see it."""

import pytest
from django_celery_beat.models import PeriodicTask

from hireops.core.schedules.registry import sync_schedules

from .admin_ui import expect, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PURGE = "Orders: purge candidates' data of orders ended long ago"


def test_vendor_operations_move_the_purge_to_another_hour(page, staff_user):
    sync_schedules()  # the rows migrate makes (a transactional test starts from a flushed database)
    log_in(page, staff_user("Vendor operations", username="vendor-schedules"))
    page.goto("/admin/django_celery_beat/periodictask/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)  # the orders' three, nobody else's
    expect(page.locator("#content-main")).not_to_contain_text("Referrals:")
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)  # no "Add"
    screenshot(page, "schedules-1-list")

    page.get_by_role("link", name=PURGE).click()
    expect(page.locator("#content-main")).to_contain_text("orders.purge_personal_data")
    expect(page.locator("input[name=task], textarea[name=args]")).to_have_count(0)
    page.locator("input[name=hour]").fill("5")
    screenshot(page, "schedules-2-change")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("#result_list")).to_contain_text("40 5 * * *")
    assert PeriodicTask.objects.get(name=PURGE).crontab.hour == "5"

    page.goto(page.url.split("?")[0] + "?q=Referrals")
    expect(rows).to_have_count(0)
