"""Events stored as ignored (no handler when they came) are replayed once an app handles their type,
and kept until then instead of being pruned."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from hireops.events import registry
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import events_prune

pytestmark = pytest.mark.django_db(transaction=True)

NEW_TYPE = "hire.application.stage_changed_v1"  # stored today; an app may handle it tomorrow
HANDLED = []


def record(event):
    HANDLED.append(event.event_id)


def ignored(event_id, event_type=NEW_TYPE, days_old=0) -> FeishuEvent:
    event = FeishuEvent.objects.create(
        event_id=event_id, schema="2.0", event_type=event_type, payload={}, status=EventStatus.IGNORED
    )
    FeishuEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(days=days_old))
    return event


@pytest.fixture
def new_app_handles_the_type(monkeypatch):
    """What deploying an app that registers NEW_TYPE in its ready() does."""

    def deploy():
        claim = registry.EventType(NEW_TYPE, "tests.events.test_replay.record", "events.view_feishuevent")
        monkeypatch.setattr(registry, "_claims", [*registry.claims(), claim])

    HANDLED.clear()
    return deploy


def statuses(*events) -> list[str]:
    return [FeishuEvent.objects.get(pk=e.pk).status for e in events]


def test_ignored_events_are_replayed_from_the_admin_once_a_handler_exists(
    admin_client, new_app_handles_the_type
):
    exam, other = ignored("exam-1"), ignored("other-1", event_type="hire.something_else_v1")
    reprocess = {"action": "reprocess", "_selected_action": [exam.pk, other.pk]}

    page = admin_client.post("/admin/events/feishuevent/", reprocess, follow=True).content.decode()
    assert statuses(exam, other) == [EventStatus.IGNORED, EventStatus.IGNORED]
    assert "2 selected events were not queued" in page

    new_app_handles_the_type()
    admin_client.post("/admin/events/feishuevent/", reprocess)
    assert statuses(exam, other) == [EventStatus.PROCESSED, EventStatus.IGNORED]
    assert HANDLED == ["exam-1"]


def test_the_command_replays_ignored_events_by_status(new_app_handles_the_type):
    exam = ignored("exam-2")
    call_command("feishu_reprocess_events", "--status", "ignored")
    assert statuses(exam) == [EventStatus.IGNORED]  # nothing handles the type yet
    new_app_handles_the_type()
    call_command("feishu_reprocess_events", "--status", "ignored")
    assert statuses(exam) == [EventStatus.PROCESSED] and HANDLED == ["exam-2"]


def test_pruning_keeps_ignored_events_that_wait_for_a_replay(settings, new_app_handles_the_type):
    settings.FEISHU_EVENT_RETENTION_DAYS = 90
    waiting = ignored("exam-old", days_old=100)  # its type has a handler now: kept for a replay
    ignored("x-old", event_type="hire.x_v1", days_old=100)  # nothing handles it: pruned
    recent = ignored("x-new", event_type="hire.x_v1", days_old=1)
    new_app_handles_the_type()
    assert events_prune() == 1
    assert set(FeishuEvent.objects.values_list("event_id", flat=True)) == {waiting.event_id, recent.event_id}
