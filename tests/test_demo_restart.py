"""./dev run's demo is green at its first start and after a restart: its sandbox keeps its
state (sandbox/persistence.py), the demo sends it its seed only when it starts from it,
the failed event it shows is no alarm, and whoever was signed in stays signed in."""

import copy
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bindings.models import BindingStatus, EcoAccountBinding, FieldPublish, VendorCustomer
from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import event_process, events_reprocess
from hireops.ops import alerts, heartbeat
from hireops.ops.models import AlertIncident
from orders.catalogue import services as catalogue
from orders.catalogue.models import Catalogue, CataloguePush, Package
from referrals.models import ReferralAccount
from sandbox.control import SandboxControl
from sandbox.server import SandboxServer
from sandbox.state import DEMO_DIRECTORY
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


def test_reviewing_the_demos_waiting_binding_sends_it_the_catalogue(demo, admin_client):
    """The demo's binding waiting for review (未知公司 背调账号) is an account the demo's Feishu
    has: bound to a customer from the admin, it is sent the catalogue, and nothing fails."""
    sandbox = _start_sandbox(demo)
    try:
        call_command("bootstrap_demo")
        waiting = EcoAccountBinding.objects.get(status=BindingStatus.NEEDS_REVIEW)
        assert waiting.account_id in {a["account_id"] for a in sandbox.state()["eco_accounts"]}
        initech = VendorCustomer.objects.get(name__startswith="Initech")
        admin_client.post(
            "/admin/bindings/ecoaccountbinding/",
            {
                "action": "bind_to_customer",
                "_selected_action": [waiting.pk],
                "apply": "1",
                "customer": initech.pk,
                "reason": "",
            },
        )
        waiting.refresh_from_db()
        assert (waiting.status, waiting.customer) == (BindingStatus.BOUND, initech)
        pushed = dict(CataloguePush.objects.filter(binding=waiting).values_list("catalogue", "status"))
        assert pushed == {
            Catalogue.PACKAGES: CallStatus.SUCCEEDED,
            Catalogue.FORM_FIELDS: CallStatus.SUCCEEDED,
        }
        offered = {c["account_id"]: c for c in sandbox.state()["catalogues"]}
        assert set(offered[waiting.account_id]["packages"]) == {"pkg-basic", "pkg-senior"}
        assert not CataloguePush.objects.exclude(status=CallStatus.SUCCEEDED).exists()
        dashboard = admin_client.get("/admin/").content.decode()
        failed = re.search(r"Catalogue pushes failed \(7 days\)</a></th>\s*<td[^>]*>(\d+)</td>", dashboard)
        assert failed is not None and failed.group(1) == "0"
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


def test_a_restarted_demo_is_as_green_as_its_first_start(demo, client):
    # First start: the sandbox from its seed, the demo sends it the fields and catalogue.
    sandbox = _start_sandbox(demo)
    try:
        call_command("bootstrap_demo")
        # A customer binds an account in Hire (the README's bind-account): matched, and sent
        # the catalogue.
        bound = sandbox.bind_account(scope=1, custom_field_list=[{"key": "org_id", "value": "GLX-002"}])
        _deliver(client, bound)
        globex = bound["event"]["account_id"]
        assert EcoAccountBinding.objects.get(account_id=globex).status == BindingStatus.BOUND
    finally:
        sandbox.server.stop()
    published, pushes = FieldPublish.objects.count(), CataloguePush.objects.count()
    assert not CataloguePush.objects.exclude(status=CallStatus.SUCCEEDED).exists()
    last_push = CataloguePush.objects.latest("pk").pk

    # Restart: the sandbox has what it had; the demo sends nothing again.
    sandbox = _start_sandbox(demo)
    try:
        call_command("bootstrap_demo")
        assert (FieldPublish.objects.count(), CataloguePush.objects.count()) == (published, pushes)
        assert _open_incidents() == []
        # The back-office's record of what each account has is still Feishu's: a new package
        # goes out as one create to each bound account, the one bound before the restart too.
        catalogue.entry_save(Package(code="pkg-gold", name="黄金套餐"))
        new = CataloguePush.objects.filter(pk__gt=last_push)
        assert dict(new.values_list("binding__account_id", "status")) == {
            "demo-bound-1": CallStatus.SUCCEEDED,
            globex: CallStatus.SUCCEEDED,
        }
        offered = {c["account_id"]: set(c["packages"]) for c in sandbox.state()["catalogues"]}
        assert offered[globex] == offered["demo-bound-1"] == {"pkg-basic", "pkg-senior", "pkg-gold"}
        assert _open_incidents() == []
    finally:
        sandbox.server.stop()


def test_a_new_demo_database_starts_the_sandbox_over(demo):
    """A state file left by another database's demo would disagree with this one's."""
    state_file = Path(demo.SANDBOX_STATE_FILE)
    state_file.write_text(json.dumps({"format": 1, "app_id": demo.FEISHU_APP_ID, "state": {}}), "utf-8")
    sandbox = _start_sandbox(demo, keeps_state=False)  # the demo's starts after bootstrap_demo
    try:
        call_command("bootstrap_demo")
    finally:
        sandbox.server.stop()
    assert not state_file.exists()
    assert FieldPublish.objects.filter(status=CallStatus.SUCCEEDED).exists()  # sent the seed anew


def test_a_restart_keeps_everyone_signed_in_and_a_password_the_demo_admin_changed(
    demo, client, staff_user, django_user_model
):
    """./dev run runs bootstrap_demo at every start: it made the demo admin's password anew
    each time, which signed them out everywhere and undid a password they had chosen."""

    def restart() -> str:
        out = StringIO()
        call_command("bootstrap_demo", stdout=out)
        return out.getvalue()

    sandbox = _start_sandbox(demo)
    try:
        assert "Demo login created: admin / hireops-demo" in restart()
        client.force_login(django_user_model.objects.get(username="admin"))
        colleague = Client()
        colleague.force_login(staff_user("HR", username="hanna"))

        printed = restart()
        for signed_in in (client, colleague):
            assert signed_in.get("/admin/").status_code == 200  # not sent to the login page
        assert "Demo login: admin / hireops-demo" in printed

        # The demo admin chooses a password of their own; the next start keeps it, and them.
        resp = client.post(
            "/admin/password_change/",
            {
                "old_password": "hireops-demo",
                "new_password1": "Mine-2026-kept",
                "new_password2": "Mine-2026-kept",
            },
        )
        assert resp.status_code == 302, resp.content.decode()[:2000]
        printed = restart()
    finally:
        sandbox.server.stop()
    assert "hireops-demo" not in printed and "the password you gave it" in printed
    assert client.get("/admin/").status_code == 200
    assert django_user_model.objects.get(username="admin").check_password("Mine-2026-kept")
