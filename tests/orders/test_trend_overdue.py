"""Orders overdue over time: the level at the end of each day, kept as the moments orders fall
due and end late, equal to counting the open orders past their promise at that moment, and
moved when the catalogue changes a promise."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.core import trends
from hireops.core.trends import charts
from orders import trend
from orders.catalogue.models import ExamPaper, Package
from orders.catalogue.turnarounds import forget_turnarounds
from orders.intake import background_check_created, exam_created
from orders.models import BackgroundCheck, Exam

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    Package.objects.create(code="pkg-1", name="基础", turnaround_days=3)
    ExamPaper.objects.create(
        code="paper-1", name="测评", duration_minutes=30, question_count=30, turnaround_days=2
    )
    forget_turnarounds()


def check(n: int, received_days_ago: float, ended_days_ago: float | None = None, package="pkg-1"):
    order = background_check_created(
        app_id="cli",
        tenant_key="t1",
        event_id=f"ev-{n}",
        event={"account_id": "acc-1", "package_id": package, "background_check_id": f"bgc-{n}"},
    )
    now = timezone.now()
    ended = now - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    BackgroundCheck.objects.filter(pk=order.pk).update(
        received_at=now - timedelta(days=received_days_ago),
        ended_at=ended,
        state="completed" if ended else "new",
    )


def exam(n: int, received_days_ago: float):
    order = exam_created(
        app_id="cli",
        tenant_key="t1",
        event_id=f"ex-{n}",
        event={"account_id": "a", "exam_id": f"x{n}", "paper_id": "paper-1"},
    )
    Exam.objects.filter(pk=order.pk).update(received_at=timezone.now() - timedelta(days=received_days_ago))


def recomputed():
    """The hours of the moments a test set by hand (as the backfill marks every hour)."""
    trend.mark_ended(trend.end_moments(BackgroundCheck.objects.all(), Exam.objects.all()))
    trends.recompute()


def counted(at) -> int:
    """The open orders past their promise at ``at``, from the rows (the overdue lists' rule)."""
    n = 0
    for model, field, entries in ((BackgroundCheck, "package_id", Package), (Exam, "paper_id", ExamPaper)):
        promised = dict(entries.objects.values_list("code", "turnaround_days"))
        for received, ended, code in model.objects.values_list("received_at", "ended_at", field):
            due = received + timedelta(days=promised.get(code, 7))
            n += due < at and (ended is None or ended >= at)
    return n


def drawn_levels(client, period="30d") -> dict[str, list[int]]:
    page = client.get(f"/admin/?period={period}").content.decode()
    section = page.split('id="orders-overdue"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>', section)
    return {label: [int(n) for n in re.findall(r">(\d+)<", cells)] for label, cells in rows}


def expected_levels() -> dict[str, int]:
    _start, _end, days = charts.days_of(charts.PERIODS["30d"])
    today = timezone.localdate()
    found = {}
    for day in days:
        at = charts.midnight(day + timedelta(days=1))
        if day == today:
            at = trends.hour_of(timezone.now()) + trends.HOUR
        found[f"{day:%Y-%m-%d}"] = counted(at)
    return found


def test_the_level_each_day_is_the_open_orders_past_their_promise(client, staff_user, catalogue):
    check(1, 10)  # overdue for a week
    check(2, 10, ended_days_ago=8)  # ended in time: never overdue
    check(3, 6, ended_days_ago=1)  # overdue from three days ago until yesterday
    check(4, 40)  # overdue since before the period: the level starts with it
    check(5, 12, package="gone")  # a package the catalogue lost: the default promise (7 days)
    exam(1, 2.5)  # past its paper's two days since half a day
    recomputed()
    client.force_login(staff_user("Vendor operations"))
    drawn = drawn_levels(client)
    assert {day: v[0] for day, v in drawn.items()} == expected_levels()
    assert drawn[f"{timezone.localdate():%Y-%m-%d}"] == [4]

    client.force_login(staff_user("HR"))
    assert 'id="orders-overdue"' not in client.get("/admin/").content.decode()
    assert client.get("/admin/trends/orders-overdue.csv").status_code == 404


def test_a_year_shows_each_weeks_last_level(client, staff_user, catalogue):
    check(1, 100)
    recomputed()
    client.force_login(staff_user("Vendor operations"))
    weeks = drawn_levels(client, "year")
    assert all(label.startswith("week of ") for label in weeks)
    assert list(weeks.values())[-1] == [1]


def test_a_changed_promise_moves_the_level_by_its_marks(client, staff_user, catalogue):
    check(1, 5)  # overdue since two days ago (three days promised)
    check(2, 2)  # not yet
    recomputed()
    package = Package.objects.get(code="pkg-1")
    package.turnaround_days = 1  # both are overdue now, the first since four days ago
    package.save()
    forget_turnarounds()
    trends.recompute()  # only what the save marked
    client.force_login(staff_user("Vendor operations"))
    assert {day: v[0] for day, v in drawn_levels(client).items()} == expected_levels()
    Package.objects.filter(code="pkg-1").delete()  # the default promise, seven days: none
    forget_turnarounds()
    trends.recompute()
    from django.core.cache import cache

    cache.clear()  # the chart's figures are kept a minute
    assert {day: v[0] for day, v in drawn_levels(client).items()} == expected_levels()
