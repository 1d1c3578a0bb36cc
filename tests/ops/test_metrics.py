"""Prometheus metrics: counted where things happen, in every process, served by the exporter."""

import subprocess
import sys
import time

import pytest
import requests
from prometheus_client import CollectorRegistry

from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import event_process
from hireops.feishu import get_client
from hireops.feishu.hire import get_account_assets
from hireops.ops.collectors import ProcessFilesCollector
from tests.conftest import ROOT, free_port, subprocess_env
from tests.events.payloads import ENCRYPT_KEY, TOKEN, eco_account_event, signed

ASSETS = "hire.referral_account.get_account_assets"


def value(name: str, **labels) -> float:
    """The sum over every process of this host (the multiprocess directory)."""
    registry = CollectorRegistry()
    ProcessFilesCollector(registry)  # the exporter's: an empty file of a killed process is skipped
    return registry.get_sample_value(name, labels) or 0.0


class Counted:
    """The change of some samples between two moments (the directory outlives test runs)."""

    def __init__(self, *samples):
        self.samples = samples
        self.before = [value(name, **labels) for name, labels in samples]

    def delta(self) -> list[float]:
        return [
            value(name, **labels) - b for (name, labels), b in zip(self.samples, self.before, strict=True)
        ]


@pytest.mark.django_db(transaction=True)
def test_deliveries_counted_by_the_ingest_server(start_ingest_server, settings):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    server = start_ingest_server(workers=2)  # counted whichever worker process takes a delivery
    counted = Counted(
        ("hireops_webhook_deliveries_total", {"outcome": "stored", "reason": ""}),
        ("hireops_webhook_deliveries_total", {"outcome": "duplicate", "reason": ""}),
        ("hireops_webhook_deliveries_total", {"outcome": "rejected", "reason": "signature_mismatch"}),
    )
    body, headers = signed(eco_account_event(event_id="evt-metrics"))
    assert requests.post(server, data=body, headers=headers, timeout=10).status_code == 200
    assert requests.post(server, data=body, headers=headers, timeout=10).status_code == 200
    bad = {**headers, "X-Lark-Signature": "0" * 64}
    assert requests.post(server, data=body, headers=bad, timeout=10).status_code == 401
    assert counted.delta() == [1, 1, 1]


@pytest.mark.django_db
def test_processed_and_failed_events_counted_with_their_lag():
    processed = FeishuEvent.objects.create(
        event_id="m-1",
        schema="2.0",
        event_type="app_ticket",
        payload={"event": {"app_id": "cli_m", "app_ticket": "t"}},
    )
    failing = FeishuEvent.objects.create(
        event_id="m-2",
        schema="2.0",
        event_type="hire.referral_account.assets_update_v1",
        payload={"event": {"account_id": "acc-nobody", "modify_time": "1700000000000", "assets": {}}},
    )
    counted = Counted(
        ("hireops_events_processed_total", {"event_type": "app_ticket", "outcome": "processed"}),
        (
            "hireops_events_processed_total",
            {"event_type": "hire.referral_account.assets_update_v1", "outcome": "failed"},
        ),
        ("hireops_event_processing_lag_seconds_count", {"event_type": "app_ticket"}),
    )
    assert event_process(processed.pk) == EventStatus.PROCESSED
    assert event_process(failing.pk) == EventStatus.FAILED
    assert counted.delta() == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_feishu_call_counted_by_endpoint_and_code(sandbox, register):
    account = register()  # registered through the sandbox: a token fetched, a create call
    counted = Counted(
        ("hireops_feishu_calls_total", {"endpoint": ASSETS, "status": "200", "code": "0"}),
        ("hireops_feishu_call_seconds_count", {"endpoint": ASSETS}),
        ("hireops_feishu_limiter_wait_seconds_count", {"endpoint": ASSETS}),
    )
    get_account_assets(get_client(), account.account_id)
    assert counted.delta() == [1, 1, 1]
    assert value("hireops_feishu_token_refreshes_total", kind="tenant") >= 1


@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_a_real_worker_is_counted(celery_worker):
    from hireops.core.tasks import ping

    counted = Counted(("hireops_celery_tasks_total", {"task": "hireops.core.ping", "outcome": "success"}))
    ping.delay()
    celery_worker(lambda: counted.delta() == [1], what="the worker's count of the task")


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
def test_the_exporter_serves_every_process_and_the_status(tmp_path):
    port = free_port()
    with open(tmp_path / "exporter.log", "w") as log:
        exporter = subprocess.Popen(
            [sys.executable, "manage.py", "hireops_metrics", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and exporter.poll() is None, (
                    tmp_path / "exporter.log"
                ).read_text()
                time.sleep(0.2)
    finally:
        exporter.terminate()
        assert exporter.wait(10) == 0
    assert 'hireops_status_ok{check="probe.database"} 1.0' in text
    assert 'hireops_status_value{check="webhooks.deliveries.waiting"} 0.0' in text
    assert 'hireops_queue_messages{queue="events"}' in text
    assert "hireops_events_pending 0.0" in text


def test_a_process_killed_before_sizing_its_file_does_not_break_the_scrape(tmp_path):
    """prometheus-client creates a process's file, then sizes it: a kill in between leaves an
    empty file, which its own collector fails on for every later scrape."""
    import os

    from prometheus_client import generate_latest, multiprocess

    from hireops.ops import metrics

    metrics.feishu_calls.labels(endpoint=ASSETS, status="200", code="0").inc(0)  # this process's file
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    empty = os.path.join(folder, "counter_killed-before-sizing.db")
    open(empty, "wb").close()
    try:
        library = CollectorRegistry()
        multiprocess.MultiProcessCollector(library)
        with pytest.raises(Exception):  # noqa: B017 (struct.error: what the library's collector does)
            generate_latest(library)
        ours = CollectorRegistry()
        ProcessFilesCollector(ours)
        assert "hireops_feishu_calls_total" in generate_latest(ours).decode()
    finally:
        os.remove(empty)


def test_the_grafana_dashboard_shows_only_metrics_that_exist():
    import json
    import re

    from hireops.ops import metrics

    dashboard = json.loads((ROOT / "docs" / "grafana" / "hireops.json").read_text())
    used = {
        re.sub(r"_(bucket|total|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"hireops_[a-z_]+", target["expr"])
    }
    defined = {m._name for m in vars(metrics).values() if hasattr(m, "_name")}
    collectors = ("ops/collectors.py", "events/gauges.py", "jobs/gauges.py")  # read at scrape time
    collected = {
        name
        for path in collectors
        for name in re.findall(r'"(hireops_[a-z_]+)"', (ROOT / "hireops" / path).read_text())
    }
    assert used <= defined | collected, used - defined - collected
    assert len(used) >= 10
