"""The demo's partner (./dev run): the sandbox's receiver verifies hireops' signatures with the
secret the demo's endpoint shares, lists what arrived, and refuses a forged delivery."""

import requests

from demo.seeds import webhooks as demo
from hireops import outbound
from hireops.webhooks import events, signing
from hireops.webhooks.delivery import DELIVER
from hireops.webhooks.models import WebhookEndpoint

SECRET = signing.new_secret()


def test_the_demo_endpoint_reaches_the_sandboxs_partner_verified(
    db, sandbox, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: outbound.run(DELIVER, pk))
    receiver = sandbox.server.partner
    receiver.secret = SECRET
    receiver.received.clear()
    settings.DEMO_WEBHOOK_URL = f"{sandbox.url}/partner/hooks"
    settings.SANDBOX_PARTNER_SECRET = SECRET
    demo.seed()
    demo.seed()  # idempotent
    (endpoint,) = WebhookEndpoint.objects.all()

    with django_capture_on_commit_callbacks(execute=True):
        events.ping(endpoint)

    (got,) = requests.get(f"{sandbox.url}/partner/events", timeout=5).json()
    assert got["verified"] and got["type"] == "ping" and got["payload"]["data"]["endpoint_id"] == endpoint.pk
    page = requests.get(f"{sandbox.url}/partner/", timeout=5).text
    assert "ping" in page and "verified" in page

    forged = signing.headers([signing.new_secret()], "msg_forged", int(got["received_at"]), b"{}")
    answer = requests.post(f"{sandbox.url}/partner/hooks", data=b"{}", headers=forged, timeout=5)
    assert answer.status_code == 401
    assert (
        requests.get(f"{sandbox.url}/partner/events", timeout=5).json()[0]["problem"]
        == "no signature matches"
    )
