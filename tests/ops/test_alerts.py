"""Alerts: an incident per check, staff told once by e-mail and a Feishu group bot (served by
the sandbox), retried until every channel took it, closed when the check is fine again."""

import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from hireops.events.models import EventStatus, FeishuEvent
from hireops.ops import alerts
from hireops.ops.admin import status_url
from hireops.ops.heartbeat import beat_once
from hireops.ops.models import AlertIncident, ProcessHeartbeat

BOT = "alerts-bot"


@pytest.fixture
def wired(sandbox, settings, monkeypatch, mailoutbox):
    """Both channels configured: a sandbox group bot (signed) and an address."""
    monkeypatch.setattr(sandbox.server.limiter, "clock", itertools.count(0, 1.0).__next__)
    bot = sandbox.create_bot(token=BOT, secret="s3cret")
    settings.ALERT_FEISHU_BOT_URL, settings.ALERT_FEISHU_BOT_SECRET = bot["url"], "s3cret"
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.ADMIN_BASE_URL = "https://hireops.example.com"
    settings.LANGUAGE_CODE = "en"
    return sandbox


def all_alive():
    beat_once("celery@test", "worker", "bulk,celery,events,webhooks", timezone.now())
    beat_once("beat@test:1", "beat", "", timezone.now())


def fail_an_event(event_id="e-given-up"):
    return FeishuEvent.objects.create(
        event_id=event_id, schema="2.0", event_type="app_ticket", payload={}, status=EventStatus.FAILED
    )


def texts(message: dict) -> str:
    return str(message)


@pytest.mark.django_db
def test_staff_are_told_once_per_incident(wired, mailoutbox):
    all_alive()
    assert alerts.alerts_run() == 0 and not wired.bot_messages(BOT) and not mailoutbox
    event = fail_an_event()
    assert alerts.alerts_run() == 1
    incident = AlertIncident.objects.get()
    assert incident.key == "events.failed" and incident.notified_at and incident.told == "email,feishu_bot"
    [message] = wired.bot_messages(BOT)
    assert "Events failed after their last retry: 1" in texts(message)
    assert "https://hireops.example.com/admin/events/feishuevent/?status__exact=failed" in texts(message)
    [mail] = mailoutbox
    assert "Events failed after their last retry: 1" in mail.subject and mail.to == ["ops@example.com"]

    fail_an_event("e-another")  # the same incident, worse: no second alert
    alerts.alerts_run()
    assert len(wired.bot_messages(BOT)) == 1 and len(mailoutbox) == 1
    assert AlertIncident.objects.get().value == "2"

    FeishuEvent.objects.all().delete()  # fixed (reprocessed, say): the incident closes
    alerts.alerts_run()
    assert AlertIncident.objects.get().resolved_at is not None
    fail_an_event(event.event_id)  # a new incident: told again
    alerts.alerts_run()
    assert AlertIncident.objects.count() == 2 and len(wired.bot_messages(BOT)) == 2 and len(mailoutbox) == 2


@pytest.mark.django_db
def test_a_channel_that_failed_is_retried_alone(wired, settings, mailoutbox):
    all_alive()
    fail_an_event()
    settings.ALERT_FEISHU_BOT_SECRET = "wrong"
    alerts.alerts_run()
    incident = AlertIncident.objects.get()
    assert incident.notified_at is None and incident.told == "email"
    assert "19021" in incident.notify_error and "s3cret" not in incident.notify_error
    assert BOT not in incident.notify_error  # the URL's token stays out of the row
    settings.ALERT_FEISHU_BOT_SECRET = "s3cret"
    alerts.alerts_run()
    incident.refresh_from_db()
    assert incident.notified_at and incident.told == "email,feishu_bot" and incident.notify_attempts == 2
    assert len(wired.bot_messages(BOT)) == 1 and len(mailoutbox) == 1  # e-mail not sent twice


@pytest.mark.django_db
def test_an_incident_written_in_chinese_reads_in_each_readers_language(wired, settings, admin_client):
    """The alerts speak LANGUAGE_CODE; the incident's title, value and what failed read in the
    reader's language on the admin's pages, whatever language the worker wrote them in."""
    settings.LANGUAGE_CODE, settings.ALERT_FEISHU_BOT_SECRET = "zh-hans", "wrong"  # the bot refuses
    all_alive()
    fail_an_event()
    alerts.alerts_run()
    with translation.override("en"):
        incident = AlertIncident.objects.get()
        assert (incident.title, incident.value) == ("Events failed after their last retry", "1")
        assert incident.notify_error.startswith("Feishu group bot: HTTP 200, code 19021: ")
    with translation.override("zh-hans"):
        incident = AlertIncident.objects.get()
        assert incident.title == "最后一次重试后仍失败的事件"
        assert incident.notify_error.startswith("飞书群机器人：HTTP 200，错误码 19021：")
    english = admin_client.get(status_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Events failed after their last retry: 1" in english and "Feishu group bot: HTTP 200" in english
    chinese = admin_client.get(status_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "最后一次重试后仍失败的事件: 1" in chinese and "飞书群机器人：HTTP 200" in chinese


@pytest.mark.django_db
def test_an_alert_carries_no_personal_data(wired, mailoutbox, monkeypatch):
    from hireops.ops import status

    def leaky():
        yield status.Finding("leaky", "Account of 13812345678 / lei@example.com stuck", 1, False)

    all_alive()
    monkeypatch.setattr(status, "_checks", [*status.checks(), leaky])
    alerts.alerts_run()
    sent = texts(wired.bot_messages(BOT)) + mailoutbox[0].subject + mailoutbox[0].body
    assert "13812345678" not in sent and "lei@example.com" not in sent


@pytest.mark.django_db
def test_one_run_per_minute_across_processes():
    cache.delete("ops:alerts:ran")
    assert alerts.due() is True
    assert alerts.due() is False


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_alerts_and_tells_the_bot(wired, settings, start_celery_worker):
    """No beat, no test code calling alerts_run: the worker's heartbeat thread does, once the
    processes started with it had the time to say they are alive (HEARTBEAT_START_GRACE_SECONDS:
    3 s here, time enough for this test's beat to write its row, where 15 s are a deployment's)."""
    fail_an_event()
    cache.delete("ops:alerts:ran")
    worker = start_celery_worker(
        ALERT_FEISHU_BOT_URL=settings.ALERT_FEISHU_BOT_URL,
        ALERT_FEISHU_BOT_SECRET="s3cret",
        LANGUAGE_CODE="en",
        HIREOPS_TEST_HEARTBEAT_START_GRACE="3",
    )
    worker(ProcessHeartbeat.objects.filter(kind="worker").exists, what="the worker's heartbeat")
    beat_once("beat@test:1", "beat", "", timezone.now())  # beat, started with it, a moment later
    told = AlertIncident.objects.filter(key="events.failed", told="feishu_bot", notified_at__isnull=False)
    worker(told.exists, timeout=45, what="the incident told to the bot")
    assert len(wired.bot_messages(BOT)) == 1
    assert list(AlertIncident.objects.values_list("key", flat=True)) == ["events.failed"]


@pytest.mark.django_db
def test_a_worker_shutting_down_opens_no_incident():
    """Ctrl-C on ./dev run: beat stops (its heartbeat row with it) a moment before the worker,
    which finishes its tasks first; a "beat alive: 0" incident opened then would outlive the
    restart. A worker that is leaving judges nothing; one that stays does."""
    from celery import signals
    from django_celery_beat.models import PeriodicTask

    from hireops.ops import heartbeat

    # The schedules ran just now: with no beat alive, how late they are is counted from their
    # last run (or the test database's making, minutes ago in a long run): another finding.
    PeriodicTask.objects.update(last_run_at=timezone.now())
    beat_once("celery@test", "worker", "bulk,celery,events,webhooks", timezone.now())  # beat's row is gone
    cache.delete("ops:alerts:ran")
    signals.worker_shutting_down.send(sender="celery@test", sig="SIGTERM", how="Warm", exitcode=0)
    try:
        heartbeat._alerts()
        assert not AlertIncident.objects.exists()
    finally:
        heartbeat._leaving.clear()  # as a worker starting in this process would
    heartbeat._alerts()
    assert list(AlertIncident.objects.values_list("key", flat=True)) == ["beat.alive"]
