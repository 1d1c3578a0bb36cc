"""The event tasks executed by a real ``celery worker`` process over the real broker."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from hireops.events import tasks
from hireops.events.models import EventStatus, FeishuEvent
from hireops.feishu.auth import ticket_key

from .payloads import ENCRYPT_KEY, TOKEN, app_ticket_event, signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def _status(event_id):
    return FeishuEvent.objects.filter(event_id=event_id).values_list("status", flat=True).first()


def test_webhook_to_worker_to_handler(client, celery_worker):
    payload = app_ticket_event(ticket="tk-worker", app_id="cli_worker")
    body, headers = signed(payload)
    resp = client.post("/feishu/events/", data=body, content_type="application/json", headers=headers)
    assert resp.status_code == 200
    celery_worker(lambda: _status(payload["uuid"]) == EventStatus.PROCESSED, what="event processed")
    assert cache.get(ticket_key("cli_worker")) == "tk-worker"


def test_sweep_and_prune_tasks(celery_worker):
    stale = FeishuEvent.objects.create(
        event_id="evt-stale",
        schema="1.0",
        event_type="app_ticket",
        payload=app_ticket_event(ticket="tk-swept", app_id="cli_swept"),
    )
    ancient = FeishuEvent.objects.create(
        event_id="evt-ancient", schema="2.0", event_type="x", payload={}, status=EventStatus.PROCESSED
    )
    FeishuEvent.objects.filter(pk=stale.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    FeishuEvent.objects.filter(pk=ancient.pk).update(received_at=timezone.now() - timedelta(days=400))

    tasks.sweep.delay()
    celery_worker(lambda: _status("evt-stale") == EventStatus.PROCESSED, what="stale event swept")
    tasks.prune.delay()
    celery_worker(lambda: not FeishuEvent.objects.filter(event_id="evt-ancient").exists(), what="pruned")
    assert FeishuEvent.objects.filter(event_id="evt-stale").exists()  # newer than the retention
