"""Turnaround, receipt to result, per package and per month: a histogram rollup read as a
median and a 90th percentile against the turnaround each package promises, shown only to
whoever may open the orders."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hireops import outbound
from hireops.core import trends
from hireops.feishu.http import FeishuResponse
from orders import turnaround, writes
from orders.catalogue.models import ExamPaper, Package
from orders.catalogue.turnarounds import forget_turnarounds
from orders.intake import background_check_created, exam_created
from orders.models import BackgroundCheck, Exam

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def feishu_accepts(monkeypatch):
    """Writes are sent when the test says (``send``), and Feishu accepts them."""
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)
    monkeypatch.setattr(writes, "_call", lambda write, body: FeishuResponse())


def send(write) -> None:
    assert outbound.run(writes.SEND, write.pk) == "succeeded"


def check_taking(hours: float, n: int, package: str = "pkg-1") -> None:
    check = background_check_created(
        app_id="cli",
        tenant_key="t1",
        event_id=f"ev-{n}",
        event={"account_id": "acc-1", "package_id": package, "background_check_id": f"bgc-{n}"},
    )
    BackgroundCheck.objects.filter(pk=check.pk).update(received_at=timezone.now() - timedelta(hours=hours))
    send(writes.result_request(check, result="无差异", time_ms=1))


def test_buckets_are_an_hour_six_hours_then_a_day_wide_up_to_sixty_days():
    assert [turnaround.bucket_of(h) for h in (0, 0.5, 23.9, 24, 29.9, 30, 167.9, 168, 191, 1439, 5000)] == [
        0,
        0,
        23,
        24,
        24,
        30,
        162,
        168,
        168,
        1416,
        1440,
    ]
    assert [turnaround.upper_of(b) for b in (0, 23, 24, 162, 168, 1416, 1440)] == [
        1,
        24,
        30,
        168,
        192,
        1440,
        1440,
    ]


def test_median_and_90th_percentile_are_read_from_the_cumulative_counts():
    histogram = {2: 1, 10: 1, 30: 1, 96: 1}
    assert turnaround.percentile(histogram, 0.5) == 11 and turnaround.percentile(histogram, 0.9) == 102
    assert turnaround.percentile({}, 0.5) is None


def figures(page: str, name: str) -> dict[str, list[int]]:
    section = page.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>', section)
    return {label: [int(n) for n in re.findall(r">(\d+)<", cells)] for label, cells in rows}


def test_vendor_operations_see_turnaround_per_package_and_month_against_the_promise(client, staff_user):
    Package.objects.create(code="pkg-1", name="基础", turnaround_days=3)
    ExamPaper.objects.create(
        code="paper-1", name="测评", duration_minutes=30, question_count=30, turnaround_days=2
    )
    forget_turnarounds()
    for n, hours in enumerate((2.5, 10.5, 31, 100)):
        check_taking(hours, n)
    exam = exam_created(
        app_id="cli",
        tenant_key="t1",
        event_id="ex",
        event={"account_id": "acc-2", "exam_id": "ex-1", "paper_id": "paper-1"},
    )
    Exam.objects.filter(pk=exam.pk).update(received_at=timezone.now() - timedelta(hours=5.5))
    send(writes.score_request(exam, score="90"))
    trends.recompute()

    client.force_login(staff_user("Vendor operations"))
    page = client.get("/admin/").content.decode()
    # 90th percentile, median, promised (hours): the package's four results, the paper's one.
    assert figures(page, "orders-turnaround-per-package") == {"pkg-1": [102, 11, 72], "paper-1": [6, 6, 48]}
    month = f"{timezone.localdate():%Y-%m}"
    assert figures(page, "orders-turnaround-per-month")[month] == [102, 11, 72]
    csv = b"".join(client.get("/admin/trends/orders-turnaround-per-package.csv").streaming_content).decode()
    assert "pkg-1,102,11,72" in csv

    client.force_login(staff_user("HR"))
    assert 'id="orders-turnaround-per-month"' not in client.get("/admin/").content.decode()
    assert client.get("/admin/trends/orders-turnaround-per-package.xlsx").status_code == 404


def test_a_canceled_order_is_no_turnaround():
    check_taking(3, 1)
    check = background_check_created(
        app_id="cli",
        tenant_key="t1",
        event_id="ev-x",
        event={"account_id": "acc-1", "background_check_id": "bgc-x"},
    )
    for write in writes.cancel_request(check):
        send(write)
    trends.recompute()
    kept = trends.series(
        turnaround.METRIC, "h", timezone.now() - timedelta(days=1), timezone.now() + timedelta(hours=1)
    )
    assert sum(kept.values()) == 1
