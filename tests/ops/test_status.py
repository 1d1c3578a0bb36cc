"""The operations status: what each check reports, the command's exit codes, the admin page,
and the heartbeats real workers and beat write."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent
from hireops.ops import report, status
from hireops.ops.heartbeat import beat_once
from hireops.ops.models import ProcessHeartbeat
from tests.conftest import ROOT, free_port, subprocess_env

pytestmark = pytest.mark.django_db


def all_alive(beat_started=None):
    now = timezone.now()
    beat_once("celery@test", "worker", "bulk,celery,events,webhooks", now)
    beat_once("beat@test:1", "beat", "", beat_started or now)


def problems() -> dict:
    return {f.key: f.value for f in report.build().needing_a_person}


def run_status(*args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("hireops_status", *args, stdout=out)
    return exit_.value.code, out.getvalue()


def test_nothing_needs_a_person_with_workers_and_beat_alive():
    all_alive()
    assert problems() == {}
    code, out = run_status()
    assert code == 0
    assert "!!" not in out and "Celery workers alive: 1" in out


def test_no_worker_and_no_beat_need_a_person():
    code, out = run_status("--problems")
    assert code == 1
    assert "!! Celery workers alive: 0" in out and "!! Celery beat alive: 0" in out
    # A process that stopped beating is as good as gone.
    all_alive()
    ProcessHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    assert {"workers.alive", "beat.alive"} <= set(problems())


def test_a_queue_no_worker_consumes():
    beat_once("celery@events-only", "worker", "events", timezone.now())
    beat_once("beat@test:1", "beat", "", timezone.now())
    assert set(problems()) == {"workers.queue.celery", "workers.queue.bulk", "workers.queue.webhooks"}


def test_events_failed_for_good_or_waiting_too_long():
    all_alive()
    common = {"schema": "2.0", "event_type": "hire.eco_account.created_v1", "payload": {}}
    FeishuEvent.objects.create(
        event_id="e-retrying", status=EventStatus.FAILED, next_attempt_at=timezone.now(), **common
    )
    assert problems() == {}  # a retry is planned: nothing for a person yet
    FeishuEvent.objects.create(event_id="e-given-up", status=EventStatus.FAILED, **common)
    waiting = FeishuEvent.objects.create(event_id="e-waiting", status=EventStatus.PENDING, **common)
    FeishuEvent.objects.filter(pk=waiting.pk).update(received_at=timezone.now() - timedelta(minutes=12))
    found = problems()
    assert found["events.failed"] == 1
    assert str(found["events.pending"]) == "12 min"
    code, out = run_status("--json")
    body = json.loads(out)
    assert code == 1 and body["exit_code"] == 1
    failed = next(f for f in body["findings"] if f["key"] == "events.failed")
    assert failed == {
        "key": "events.failed",
        "title": "Events failed after their last retry",
        "value": "1",
        "ok": False,
        "url": "/admin/events/feishuevent/?status__exact=failed",
    }


def test_a_write_to_feishu_stuck_or_failed(staff_user):
    from orders.models import Exam, OrderWrite, WriteKind

    all_alive()
    exam = Exam.objects.create(app_id="cli", account_id="acc", exam_id="exam-1")
    stuck = OrderWrite.objects.create(kind=WriteKind.SCORE, exam=exam, result="60")
    OrderWrite.objects.filter(pk=stuck.pk).update(requested_at=timezone.now() - timedelta(minutes=31))
    assert problems() == {"orders.send_write.stuck": 1}
    OrderWrite.objects.filter(pk=stuck.pk).update(status=CallStatus.FAILED, finished_at=timezone.now())
    assert problems() == {"orders.send_write.failed": 1}
    OrderWrite.objects.filter(pk=stuck.pk).update(finished_at=timezone.now() - timedelta(days=2))
    assert problems() == {}  # an old failure was seen by then; the list still shows it


def test_a_late_schedule():
    from django_celery_beat.models import PeriodicTask

    all_alive(beat_started=timezone.now() - timedelta(hours=1))
    sweep = PeriodicTask.objects.get(task="events.sweep")  # every 30 seconds
    PeriodicTask.objects.filter(pk=sweep.pk).update(last_run_at=timezone.now() - timedelta(seconds=20))
    PeriodicTask.objects.exclude(pk=sweep.pk).update(last_run_at=timezone.now())
    assert "beat.late" not in problems()
    PeriodicTask.objects.filter(pk=sweep.pk).update(last_run_at=timezone.now() - timedelta(minutes=10))
    assert sweep.name in problems()["beat.late"]


def test_a_beat_started_after_a_long_stop_is_not_late_while_it_catches_up():
    """./dev run restarted in the morning: every schedule last ran the evening before, and
    beat records a run up to 3 minutes after making it."""
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(hours=14))
    assert {"beat.alive", "beat.late"} <= set(problems())  # while no beat runs: both
    all_alive(beat_started=timezone.now() - timedelta(minutes=2))
    assert problems() == {}
    ProcessHeartbeat.objects.filter(kind="beat").update(started_at=timezone.now() - timedelta(minutes=10))
    assert "Feishu events: queue stored" in str(problems()["beat.late"])  # 10 minutes on, still behind


def test_a_check_that_breaks_is_itself_a_finding(monkeypatch):
    def broken():
        raise ValueError("boom")
        yield

    all_alive()
    monkeypatch.setattr(status, "_checks", [*status.checks(), broken])
    assert list(problems().values()) == ["ValueError"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
def test_the_status_cannot_be_read_without_the_database():
    env = subprocess_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/hireops", LANGUAGE_CODE="en"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "hireops_status"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "!! Reachable from here: database" in result.stdout
    assert "database is unreachable" in result.stderr


def test_the_status_page_for_whoever_may_see_it(client, staff_user):
    all_alive()
    FeishuEvent.objects.create(
        event_id="e-x", schema="2.0", event_type="x", payload={}, status=EventStatus.FAILED
    )
    client.force_login(staff_user("Auditor"))
    page = client.get("/admin/ops/alertincident/status/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 thing needs a person" in html and "Events failed after their last retry" in html
    assert "celery@test" in html
    client.force_login(staff_user("HR"))
    assert client.get("/admin/ops/alertincident/status/").status_code == 403


def test_a_real_worker_beats_with_its_queues(celery_worker):
    celery_worker(
        lambda: ProcessHeartbeat.objects.filter(kind="worker", queues="bulk,celery,events,webhooks").exists(),
        what="the worker's heartbeat",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
def test_a_real_beat_beats_and_forgets_its_row_when_stopped(tmp_path):
    import time

    log = tmp_path / "beat.log"
    with open(log, "w") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", str(tmp_path / "schedule")],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not ProcessHeartbeat.objects.filter(kind="beat").exists():
            assert time.monotonic() < deadline and beat.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(15)
    assert not ProcessHeartbeat.objects.filter(kind="beat").exists(), log.read_text()
