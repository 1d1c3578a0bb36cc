"""What people read on the status pages is in their language; what machines read (/readyz,
the command's JSON keys, the heartbeat's stored state) keeps its fixed English names."""

import json
import re

import pytest
from django.utils import timezone, translation

from hireops.ops import link_state
from hireops.ops.heartbeat import beat_once
from tests.ops.test_status import all_alive, run_status

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
PROBES = ("database", "cache", "broker", "coordination")


def listeners():
    now = timezone.now()
    beat_once("listen@a", "listener", "", now, state=(link_state.stored(True, ""), now))
    beat_once("listen@b", "listener", "", now, state=(link_state.stored(False, "connection dropped"), now))


def test_the_status_page_names_listener_states_and_probes_in_chinese(admin_client):
    all_alive()
    listeners()
    page = admin_client.get("/admin/ops/alertincident/status/", **ZH).content.decode()
    assert "已连接（开始于" in page and "未连接：连接已中断（开始于" in page  # Chinese brackets
    assert "connected (" not in page and "disconnected" not in page
    for name in ("数据库", "缓存", "任务队列", "共享锁与限流"):
        assert f"本机可连接：{name}" in page
    assert not re.search(r"本机可连接：(database|cache|broker|coordination)\b", page)

    listing = admin_client.get("/admin/ops/processheartbeat/", **ZH).content.decode()
    assert "未连接：连接已中断" in listing and "disconnected" not in listing


def test_machines_keep_the_names(client):
    listeners()
    from hireops.ops.models import ProcessHeartbeat

    assert set(ProcessHeartbeat.objects.values_list("state", flat=True)) == {
        "connected",
        "disconnected: connection dropped",
    }
    ready = client.get("/readyz", **ZH)
    assert set(PROBES) <= set(json.loads(ready.content)["checks"])
    _code, out = run_status("--json")
    assert {f"probe.{name}" for name in PROBES} <= {f["key"] for f in json.loads(out)["findings"]}


@pytest.mark.parametrize(
    ("reason", "zh"),
    [
        ("starting", "未连接：正在启动"),
        ("stopped", "未连接：已停止"),
        ("closed by Feishu", "未连接：飞书关闭了连接"),
        ("closed by Feishu (code 1000)", "未连接：飞书关闭了连接（代码 1000）"),
        ("silent: silent for 120 s", "未连接：飞书已 120 秒没有任何消息"),
        ("connection failed: ConnectionRefusedError", "未连接：无法连接（ConnectionRefusedError）"),
        ("handshake refused: 403 (1000040350) busy", "未连接：飞书拒绝了连接（403 (1000040350) busy）"),
        ("discovery answered no URL", "未连接：飞书没有给出可连接的地址（discovery answered no URL）"),
        ("something new", "未连接：something new"),
    ],
)
def test_each_reason_the_client_gives_reads_in_chinese(reason, zh):
    with translation.override("zh-hans"):
        assert link_state.describe(link_state.stored(False, reason)) == zh
        assert link_state.describe(link_state.stored(True, "")) == "已连接"
    with translation.override("en"):
        assert link_state.describe(link_state.stored(False, "connection dropped")) == (
            "not connected: the connection dropped"
        )
