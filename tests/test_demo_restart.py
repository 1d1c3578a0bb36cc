"""./dev run's demo is green at its first start and after a restart: its sandbox keeps its
state (hireops/sandbox/persistence.py), the demo sends it its seed only when it starts from it,
and the failed event it shows is no alarm."""

import copy

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import event_process, events_reprocess
from hireops.ops import alerts, heartbeat
from hireops.ops.models import AlertIncident
from hireops.sandbox.control import SandboxControl
from hireops.sandbox.server import SandboxServer
from hireops.sandbox.state import DEMO_DIRECTORY
from referrals.models import ReferralAccount
from tests.events.payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    """./dev run's settings: DEBUG, the demo directory, a state file (not there yet)."""
    settings.DEBUG = True
    settings.SANDBOX_DIRECTORY_FILE = str(DEMO_DIRECTORY)
    settings.SANDBOX_STATE_FILE = str(tmp_path / "sandbox-state.json")
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    return settings


def _start_sandbox(settings, keeps_state=True) -> SandboxControl:
    server = SandboxServer(
        app_id=settings.FEISHU_APP_ID,
        app_secret=settings.FEISHU_APP_SECRET,
        directory_file=DEMO_DIRECTORY,
        state_file=settings.SANDBOX_STATE_FILE if keeps_state else None,
    ).start()
    settings.FEISHU_BASE_URL = server.url
    control = SandboxControl(server.url)
    control.server = server
    return control


def _processes_running() -> None:
    """The worker and beat of ./dev run, as their heartbeats say."""
    now = timezone.now()
    heartbeat.beat_once("celery@demo", "worker", ",".join(settings.CELERY_TASK_QUEUES), now)
    heartbeat.beat_once("beat@demo:1", "beat", "", now)


def _open_incidents() -> list[str]:
    _processes_running()
    alerts.alerts_run()  # what a worker runs every minute
    return list(AlertIncident.objects.filter(resolved_at=None).values_list("key", flat=True))


def _deliver(client, event: dict) -> None:
    """The sandbox's event, as Feishu delivers it to the webhook (signed, encrypted)."""
    event = copy.deepcopy(event)
    event["header"]["token"] = TOKEN
    resp = post_delivery(client, *signed(event))
    assert resp.status_code == 200, resp.content


def test_a_fresh_demo_shows_a_failed_event_and_opens_no_incident(demo, client):
    sandbox = _start_sandbox(demo)
    try:
        call_command("bootstrap_demo")
        assert _open_incidents() == []
        # The failed event is there to look at, with its last retry planned…
        event = FeishuEvent.objects.get(status=EventStatus.FAILED)
        assert event.attempts == 4 and event.next_attempt_at > timezone.now()
        li_na = ReferralAccount.objects.get(account_id=event.account_id)
        assert "not registered here (yet)" in str(event.last_error)
        # …and it is an honest one: reprocessed, it finds the account and applies what Feishu has.
        events_reprocess(FeishuEvent.objects.filter(pk=event.pk))
        assert event_process(event.pk) == EventStatus.PROCESSED
        li_na.refresh_from_db()
        feishu = next(a for a in sandbox.state()["accounts"] if a["account_id"] == li_na.account_id)
        assert li_na.points == feishu["assets"]["confirmed_bonus"]["point_bonus"] == 40
    finally:
        sandbox.server.stop()


def test_an_earlier_demos_event_failed_for_good_is_replaced(demo):
    FeishuEvent.objects.create(
        event_id="demo-failed-event-1",
        schema="2.0",
        event_type="hire.referral_account.assets_update_v1",
        account_id="7300000000000009999",
        payload={},
        status=EventStatus.FAILED,
        attempts=5,
    )
    sandbox = _start_sandbox(demo)
    try:
        call_command("bootstrap_demo")
    finally:
        sandbox.server.stop()
    event = FeishuEvent.objects.get(event_id="demo-failed-event-1")
    assert event.next_attempt_at is not None and event.account_id != "7300000000000009999"
