"""Order writes that failed, per day: counted when Feishu refuses one, no longer when staff send
it again, shown to whoever may open the writes."""

import re

import pytest
from django.utils import timezone

from hireops import outbound
from hireops.core import trends
from hireops.feishu.errors import FeishuError
from orders import writes
from orders.intake import background_check_created

pytestmark = pytest.mark.django_db


def refused(write, body):
    raise FeishuError(1002001, "refused")


def failed_today(client) -> list[int]:
    page = client.get("/admin/").content.decode()
    section = page.split('id="orders-failed-calls"', 1)[1].split("</section>", 1)[0]
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>', section))
    return [int(n) for n in re.findall(r">(\d+)<", rows[f"{timezone.localdate():%Y-%m-%d}"])]


def test_a_refused_write_counts_until_it_is_sent_again(client, staff_user, monkeypatch):
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)
    monkeypatch.setattr(writes, "_call", refused)
    check = background_check_created(
        app_id="cli", tenant_key="t1", event_id="e", event={"account_id": "a", "background_check_id": "c1"}
    )
    write = writes.result_request(check, result="无差异", time_ms=1)
    assert outbound.run(writes.SEND, write.pk) == "failed"
    trends.recompute()
    client.force_login(staff_user("Vendor operations"))
    assert failed_today(client) == [1, 0]

    writes.write_retry(write)
    trends.recompute()
    from django.core.cache import cache

    cache.clear()  # the chart's figures are kept a minute
    assert failed_today(client) == [0, 0]

    client.force_login(staff_user("HR"))
    assert client.get("/admin/trends/orders-failed-calls.csv").status_code == 404
