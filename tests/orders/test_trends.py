"""Vendor operations' trend: orders received and ended per day, kept from the marks the
intake writes with each order it creates or ends, equal to a GROUP BY over the orders, and
shown only to whoever may open the orders."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.core import trends
from hireops.core.trends.models import Grain, TrendRollup
from orders import trend
from orders.intake import background_check_canceled, background_check_created, exam_created
from orders.models import BackgroundCheck, Exam

pytestmark = pytest.mark.django_db

CHECK = {"account_id": "acc-1", "package_id": "pkg-1", "candidate_info": {"name": "X"}}


@pytest.fixture(autouse=True)
def nothing_delivered(monkeypatch):
    from hireops import outbound

    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)


def orders():
    for n in range(4):
        background_check_created(
            app_id="cli",
            tenant_key="t1",
            event_id=f"ev-{n}",
            event={**CHECK, "background_check_id": f"bgc-{n}"},
        )
    exam_created(
        app_id="cli", tenant_key="t1", event_id="ex", event={"account_id": "acc-2", "exam_id": "ex-1"}
    )
    background_check_canceled(
        app_id="cli", tenant_key="t1", event_id="c", event={"background_check_id": "bgc-1"}
    )
    # Replayed: the same order again changes nothing.
    background_check_created(
        app_id="cli", tenant_key="t1", event_id="ev-0", event={**CHECK, "background_check_id": "bgc-0"}
    )
    trends.recompute()


def grouped(metric: str) -> Counter:
    found: Counter = Counter()
    for kind, model in trend.KINDS.items():
        field = "received_at" if metric == trend.RECEIVED else "ended_at"
        for moment, state in model.objects.exclude(**{field: None}).values_list(field, "state"):
            found[trends.hour_of(moment), kind, "" if metric == trend.RECEIVED else state] += 1
    return found


def test_the_rollups_equal_a_group_by_over_the_orders():
    orders()
    for metric in (trend.RECEIVED, trend.ENDED):
        rows = TrendRollup.objects.filter(metric=metric, grain=Grain.HOUR)
        kept = Counter(
            {(b, d, o): n for b, d, o, n in rows.values_list("bucket", "dimension", "outcome", "count")}
        )
        assert kept == grouped(metric) and kept
    assert (
        sum(
            TrendRollup.objects.filter(metric=trend.RECEIVED, grain=Grain.DAY).values_list("count", flat=True)
        )
        == 5
    )


def orders_table(page: str) -> dict[str, list[int]]:
    section = page.split('id="orders-per-day"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>', section)
    return {label: [int(n) for n in re.findall(r">(\d+)<", cells)] for label, cells in rows}


def test_vendor_operations_see_the_orders_and_hr_does_not(client, staff_user):
    orders()
    client.force_login(staff_user("Vendor operations"))
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert orders_table(client.get("/admin/").content.decode())[today] == [5, 0, 1]
    csv = b"".join(client.get("/admin/trends/orders-per-day.csv").streaming_content).decode()
    assert f"{today},5,0,1" in csv
    client.force_login(staff_user("HR"))
    assert 'id="orders-per-day"' not in client.get("/admin/").content.decode()
    assert client.get("/admin/trends/orders-per-day.csv").status_code == 404


def test_an_order_received_last_week_counts_in_its_day():
    orders()
    then = timezone.now() - timedelta(days=7)
    BackgroundCheck.objects.filter(background_check_id="bgc-2").update(received_at=then)
    Exam.objects.update(received_at=then)
    trend.mark_received(then)  # what a backfill marks (the intake only ever stores "now")
    trends.mark_range(trend.RECEIVED, timezone.now() - timedelta(hours=2), timezone.now())
    trends.recompute()
    days = TrendRollup.objects.filter(metric=trend.RECEIVED, grain=Grain.DAY)
    by_day = Counter()
    for bucket, n in days.values_list("bucket", "count"):
        by_day[timezone.localtime(bucket).date()] += n
    assert by_day[timezone.localtime(then).date()] == 2 and by_day[timezone.localdate()] == 3
