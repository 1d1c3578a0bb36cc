"""The dashboard's trends: drawn from the rollups as SVG with its table, for the period the
reader chooses, downloadable as CSV and Excel, and shown to whoever may open the rows only."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from hireops.core import trends
from hireops.events import inbox
from hireops.events.models import EventStatus, FeishuEvent

pytestmark = pytest.mark.django_db

TYPE = "hire.eco_account.created_v1"  # the binding's events: Vendor operations see them


@pytest.fixture
def stored():
    """Five events three days ago, two of them failed; one an hour ago: recomputed."""
    then = timezone.now() - timedelta(days=3)
    rows = [
        inbox.InboxRow(f"e{i}", "2.0", TYPE, "cli", "", "", "", "{}", then, EventStatus.PENDING)
        for i in range(5)
    ]
    rows.append(
        inbox.InboxRow("late", "2.0", TYPE, "cli", "", "", "", "{}", timezone.now(), EventStatus.PENDING)
    )
    inbox.insert_rows(rows)
    FeishuEvent.objects.filter(event_id__in=["e0", "e1"]).update(status=EventStatus.FAILED)
    trends.mark("events", [then])  # what the services mark with their status changes
    trends.recompute()
    return timezone.localdate(then)


def trend_table(page: str, name: str) -> dict[str, list[int]]:
    import re

    section = page.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>', section)
    return {label: [int(n) for n in re.findall(r">(\d+)<", cells)] for label, cells in rows}


def test_the_operators_see_events_per_day_and_hour_with_the_failures(admin_client, stored):
    page = admin_client.get("/admin/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert '<title id="trend-events-per-day-title">Feishu events stored per day</title>' in page
    days = trend_table(page, "events-per-day")
    assert len(days) == 30 and days[f"{stored:%Y-%m-%d}"] == [5, 2]
    assert sum(v[0] for v in days.values()) == 6
    hours = trend_table(page, "events-per-hour")
    assert len(hours) == 48 and sum(v[0] for v in hours.values()) == 1


def test_the_period_is_chosen_and_a_year_is_drawn_by_week(admin_client, stored):
    quarter = trend_table(admin_client.get("/admin/?period=quarter").content.decode(), "events-per-day")
    assert len(quarter) == 91 and sum(v[0] for v in quarter.values()) == 6
    page = admin_client.get("/admin/?period=year").content.decode()
    year = trend_table(page, "events-per-day")
    assert len(year) in (52, 53) and all(label.startswith("week of ") for label in year)
    assert sum(v[0] for v in year.values()) == 6 and sum(v[1] for v in year.values()) == 2
    assert '<strong aria-current="page">A year</strong>' in page


def test_the_figures_download_as_csv_and_excel(admin_client, stored):
    csv = b"".join(admin_client.get("/admin/trends/events-per-day.csv?period=30d").streaming_content).decode()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0] == "day,Stored,Failed now" and f"{stored:%Y-%m-%d},5,2" in lines and len(lines) == 31
    book = admin_client.get("/admin/trends/events-per-day.xlsx?period=30d")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    assert [c.value for c in sheet[1]] == ["day", "Stored", "Failed now"] and sheet.max_row == 31
    assert admin_client.get("/admin/trends/events-per-day.pdf").status_code == 404
    assert admin_client.get("/admin/trends/nothing.csv").status_code == 404


def test_in_chinese(admin_client, stored):
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每天存储的飞书事件" in page and "事件" in page


def test_a_role_sees_only_the_events_it_may_open(client, staff_user, stored):
    other = "hire.referral_account.assets_update_v1"  # HR's, not Vendor operations'
    inbox.insert_rows(
        [inbox.InboxRow("hr", "2.0", other, "cli", "", "", "", "{}", timezone.now(), EventStatus.PENDING)]
    )
    trends.recompute()
    client.force_login(staff_user("Vendor operations"))
    hours = trend_table(client.get("/admin/").content.decode(), "events-per-hour")
    assert sum(v[0] for v in hours.values()) == 1  # the binding's event, not HR's
    client.force_login(staff_user(username="nobody"))
    assert "events-per-day" not in client.get("/admin/").content.decode()
    assert client.get("/admin/trends/events-per-day.csv").status_code == 404


def test_a_chart_whose_series_come_from_its_figures_says_when_the_period_has_none():
    """A chart drawing one bar per currency found, in a period without any, still has a legend
    a reader can read (and the browser test can find), in the reader's language."""
    from django.utils import translation

    from hireops.core.trends import charts

    chart = charts.Chart(
        name="test-empty",
        title="Paid",
        description="What was paid.",
        unit="amount",
        bucket_label="run",
        series=(),
        figures=lambda request, period: None,
    )
    period = charts.PERIODS["30d"]
    with translation.override("zh-hans"):
        drawn = charts.svg(chart, period, charts.Figures([], {}, ()))
    assert "此期间没有数据。" in drawn and 'class="trend-legend"' in drawn


def test_a_stacked_chart_draws_one_bar_per_bucket_each_series_on_the_ones_before_it():
    """The parts of a whole (what became of a month's leavers): one bar as wide as a lone
    series' bar, its parts one on the other, the axis reaching the whole."""
    import itertools
    import re

    from hireops.core.trends import charts

    series = tuple(
        charts.Series(key, key, color) for key, color in (("a", "#111"), ("b", "#222"), ("c", "#333"))
    )
    chart = charts.Chart(
        name="test-stacked",
        title="Parts",
        description="Parts of a whole.",
        unit="rows",
        bucket_label="month",
        series=series,
        figures=lambda request, period: None,
        stacked=True,
    )
    figures = charts.Figures(["2026-01", "2026-02"], {"a": [3, 0], "b": [2, 1], "c": [5, 0]})
    drawn = charts.svg(chart, charts.PERIODS["30d"], figures)
    bars = drawn.split('class="trend-bars">', 1)[1].split("</g>", 1)[0]
    rects = [
        (float(x), float(y), float(w), float(h), fill)
        for x, y, w, h, fill in re.findall(
            r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="([^"]+)"', bars
        )
    ]
    january = [r for r in rects if r[0] == rects[0][0]]
    assert [fill for *_box, fill in january] == ["#111", "#222", "#333"] and len(rects) == 4
    assert len({w for _x, _y, w, _h, _f in rects}) == 1  # one bar per month, all as wide
    for below, above in itertools.pairwise(january):  # each part on the one before
        assert abs(above[1] + above[3] - below[1]) < 0.2
    axis = re.findall(r'text-anchor="end" fill="currentColor">(\d+)</text>', drawn)
    assert int(axis[-1]) >= 10  # the whole bar (3 + 2 + 5), not its tallest part
    apart = charts.svg(charts.Chart(**{**chart.__dict__, "stacked": False}), charts.PERIODS["30d"], figures)
    apart_bars = apart.split('class="trend-bars">', 1)[1].split("</g>", 1)[0]
    assert len(set(re.findall(r'<rect x="([\d.]+)"', apart_bars))) == 4  # not stacked: side by side
