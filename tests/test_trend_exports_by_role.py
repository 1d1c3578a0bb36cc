"""Every chart's exports tried as a colleague in another role (or someone signed out) would: a
chart's CSV and Excel answer exactly the readers whose dashboard draws it, and a 404 to the
others, as for a chart that does not exist; signed out, nothing but the sign-in page. The charts
come from their registry and the users from the roles, so a chart or a role added later is tried
without a new test."""

import re

import pytest

from hireops.core.trends import charts

pytestmark = pytest.mark.django_db

FORMATS = ("csv", "xlsx")


def drawn_for(client) -> set[str]:
    page = client.get("/admin/")
    assert page.status_code == 200
    return set(re.findall(r'<section class="trend" id="([^"]+)"', page.content.decode()))


def test_a_charts_exports_answer_only_the_readers_whose_dashboard_draws_it(client, one_user_of_each_role):
    every = set(charts.names())
    drawn_for_someone: set[str] = set()
    hidden_from_someone: set[str] = set()
    for user in one_user_of_each_role:
        client.force_login(user)
        drawn = drawn_for(client)
        assert drawn <= every, drawn - every
        for name in sorted(every):
            for fmt, period in [*((fmt, "30d") for fmt in FORMATS), ("csv", "year")]:
                answer = client.get(f"/admin/trends/{name}.{fmt}?period={period}")
                want = 200 if name in drawn else 404
                assert answer.status_code == want, f"{user.username} {name}.{fmt}?period={period}"
        assert client.get("/admin/trends/no-such-chart.csv").status_code == 404
        for name in drawn:
            assert client.get(f"/admin/trends/{name}.pdf").status_code == 404
        drawn_for_someone |= drawn
        hidden_from_someone |= every - drawn
        client.logout()
    # The sweep tried every chart both ways: drawn for a reader, refused to another.
    assert drawn_for_someone == every
    assert hidden_from_someone == every


def test_signed_out_every_export_sends_to_the_sign_in_page(client):
    for name in charts.names():
        for fmt in FORMATS:
            answer = client.get(f"/admin/trends/{name}.{fmt}")
            assert answer.status_code == 302 and "/login/" in answer["Location"], name
