"""`FEISHU_APP_TYPE=store ./dev run`: the sandbox's tenants enable the app when it starts."""

import socket
import subprocess
import sys
import time

import pytest
from django.core.management import call_command

from bindings.models import FieldPublish
from hireops.events.publisher import publisher
from hireops.feishu import save_app_ticket
from hireops.tenants.models import Tenant, TenantStatus
from referrals.models import ReferralAccount
from tests.conftest import ROOT, subprocess_env
from tests.events.payloads import ENCRYPT_KEY, TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.processes
def test_the_sandbox_pushes_app_open_for_its_demo_tenants_at_start(live_server, settings):
    settings.FEISHU_APP_TYPE = "store"
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    command = [
        # Free ports for both listeners: a sandbox already running here (./dev run's, on 8765
        # and 8766) must not make this one fail to start.
        sys.executable, "manage.py", "feishu_sandbox", "--port", str(_free_port()), "--ws-port", "0",
        "--webhook-url", live_server.url + "/feishu/events/", "--encrypt-key", ENCRYPT_KEY,
        "--verification-token", TOKEN, "--install-tenants", "acme-tenant,globex-tenant",
    ]  # fmt: skip
    sandbox = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while Tenant.objects.filter(status=TenantStatus.INSTALLED).count() < 2:
            assert time.monotonic() < deadline, "the demo tenants' app_open never arrived"
            time.sleep(0.2)
        # What the events set off (each new tenant's name asked of Feishu) runs on the
        # publisher's thread: let it finish while the sandbox still answers.
        assert publisher.flush(30.0)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    assert sorted(Tenant.objects.values_list("tenant_key", flat=True)) == ["acme-tenant", "globex-tenant"]


def test_the_store_demo_seeds_accounts_in_a_tenant_and_leaves_publishing_to_the_installs(sandbox, settings):
    settings.DEBUG, settings.FEISHU_APP_TYPE = True, "store"
    # The app ticket delivered, as the sandbox pushes it at start under ./dev run: without it
    # each catalogue push the demo asks for waits for the ticket and fails (90 s in all).
    save_app_ticket(settings.FEISHU_APP_ID, sandbox.push_app_ticket()["event"]["app_ticket"])
    call_command("bootstrap_demo", password="Pw-123456!")
    assert set(ReferralAccount.objects.values_list("tenant_key", flat=True)) == {"demo-tenant"}
    assert not FieldPublish.objects.exists()  # each tenant gets the fields when it enables the app
