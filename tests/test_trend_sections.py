"""The dashboard's trends kept drawn: readers holding the same permissions share one drawing,
readers holding others never see it, and the beat draws each again from figures read anew, in
each language, forgetting a reader whose permissions changed."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hireops.core import tasks, trends
from hireops.core.auth import roles
from hireops.core.trends import sections
from hireops.events import inbox
from hireops.events.models import EventStatus
from tests.test_trends_dashboard import TYPE, trend_table

pytestmark = pytest.mark.django_db


def store_events(n: int, prefix: str) -> None:
    then = timezone.now() - timedelta(days=2)
    inbox.insert_rows(
        [
            inbox.InboxRow(f"{prefix}{i}", "2.0", TYPE, "cli", "", "", "", "{}", then, EventStatus.PROCESSED)
            for i in range(n)
        ]
    )
    trends.mark("events", [then])
    trends.recompute()


def stored_in(page: str) -> int:
    return sum(v[0] for v in trend_table(page, "events-per-day").values())


def stored_per_day(client) -> int:
    return stored_in(client.get("/admin/").content.decode())


@pytest.fixture(autouse=True)
def nothing_kept():
    cache.delete(sections.READERS)
    yield
    cache.delete(sections.READERS)


def test_readers_with_the_same_permissions_share_one_drawing_and_others_get_their_own(client, staff_user):
    store_events(3, "a")
    first = staff_user(roles.VENDOR_OPS, username="ops-1")
    second = staff_user(roles.VENDOR_OPS, username="ops-2")
    hr = staff_user(roles.HR, username="hr-1")
    drawn = {}
    for user in (first, second, hr):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/admin/").content.decode()
        drawn[user.username] = (page, len(queries))
        client.logout()
    assert 'id="events-per-day"' in drawn["ops-1"][0]
    # The second reader of the group reads what the first drew: none of the charts' queries.
    assert drawn["ops-2"][1] < drawn["ops-1"][1]
    shared = trend_table(drawn["ops-2"][0], "events-per-day")
    assert shared == trend_table(drawn["ops-1"][0], "events-per-day")
    assert stored_in(drawn["ops-1"][0]) == 3
    # HR may not open the binding's events nor the orders: their own section, their own figures.
    assert 'id="orders-per-day"' in drawn["ops-1"][0] and 'id="orders-per-day"' not in drawn["hr-1"][0]
    assert stored_in(drawn["hr-1"][0]) == 0


def test_the_beat_draws_again_from_new_figures_in_each_language(client, staff_user):
    store_events(2, "a")
    reader = staff_user(roles.VENDOR_OPS, username="ops-1")
    client.force_login(reader)
    assert stored_per_day(client) == 2
    store_events(3, "b")
    assert stored_per_day(client) == 2  # kept: the page read no rollup
    assert sections.refresh() == 1
    assert stored_per_day(client) == 5
    chinese = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每天" in chinese.split('id="events-per-day"', 1)[1].split("</h3>", 1)[0]


def test_a_reader_whose_permissions_changed_is_forgotten_and_sees_only_their_own(client, staff_user):
    store_events(1, "a")
    reader = staff_user(roles.VENDOR_OPS, username="ops-1")
    client.force_login(reader)
    assert 'id="orders-per-day"' in client.get("/admin/").content.decode()
    reader.groups.set([Group.objects.get(name=roles.HR)])
    assert sections.refresh() == 0
    assert not cache.get(sections.READERS)
    client.force_login(reader)  # a new session reads the user's permissions anew
    page = client.get("/admin/").content.decode()
    assert 'id="orders-per-day"' not in page and stored_in(page) == 0


def test_a_group_that_cannot_be_drawn_leaves_the_others_drawn(client, staff_user, monkeypatch, caplog):
    store_events(2, "a")
    client.force_login(staff_user(roles.VENDOR_OPS, username="ops-1"))
    assert stored_per_day(client) == 2
    client.get("/admin/?period=year")
    store_events(3, "b")
    drawn = sections._drawn

    def failing_for_a_year(request, period):
        if period.key == "year":
            raise RuntimeError("a chart broke")
        return drawn(request, period)

    monkeypatch.setattr(sections, "_drawn", failing_for_a_year)
    assert sections.refresh() == 2
    assert stored_per_day(client) == 5
    assert "could not be drawn again (period year)" in caplog.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
def test_a_real_worker_draws_the_trends_again(client, staff_user, celery_worker):
    store_events(2, "a")
    client.force_login(staff_user(roles.VENDOR_OPS, username="ops-1"))
    assert stored_per_day(client) == 2
    store_events(4, "b")
    tasks.trends_refresh.delay()
    celery_worker(lambda: stored_per_day(client) == 6, what="the trends drawn again")
