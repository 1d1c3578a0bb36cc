"""Errors reach Sentry when SENTRY_DSN is set, without personal data or secrets (core.errortracking)."""

import json
import logging
import subprocess
import sys

import pytest
import sentry_sdk
from celery import shared_task
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from sentry_sdk.transport import Transport

from hireops.core.logs.errortracking import FILTERED, init_sentry, scrub
from tests.conftest import ROOT

# Sentry's set-up asks git for the release (a child process) where none is given.
pytestmark = pytest.mark.processes

MOBILE, EMAIL = "13800138000", "wang.fang@example.com"
TOKEN = "t-g1044ab2f5a8e7d6c9b0a1f2e3d4c5b6a7f8e9d0c"
log = logging.getLogger("hireops.test")


@shared_task(name="tests.errortracking.fail_with_personal_data")
def fail_with_personal_data(pk: int):
    payload = {"mobile": {"code": "86", "number": MOBILE}, "email": EMAIL}  # a local: never sent
    log.info("calling Feishu for %s with %s", EMAIL, TOKEN)
    raise RuntimeError(
        f"Feishu refused {payload['mobile']['number']} / {EMAIL}: Authorization: Bearer {TOKEN} "
        f"(app secret {settings.FEISHU_APP_SECRET})"
    )


class Capture(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [item.payload.json for e in self.envelopes for item in e.items if item.type == "event"]


@pytest.fixture
def sentry():
    transport = Capture()
    init_sentry(
        "http://public@127.0.0.1:9/1", environment="test", release="hireops@test", transport=transport
    )
    yield transport
    sentry_sdk.get_client().close()
    # Off again for the other tests of this process. ``sentry_sdk.init()`` without a DSN was not
    # off: its client stays active, and the patched http.client added sentry-trace and baggage
    # headers to every request later tests sent (one, counting headers, failed on it).
    sentry_sdk.get_global_scope().set_client(None)
    assert not sentry_sdk.get_client().is_active()


def test_a_failing_task_reaches_sentry_without_the_mobile_email_token_or_secret(sentry, settings):
    settings.FEISHU_APP_SECRET = "app-secret-that-must-not-leave"
    fail_with_personal_data.delay(42)  # eager in tests: the same tracer a worker runs
    sentry_sdk.flush()

    [event] = sentry.events()
    sent = json.dumps(event, ensure_ascii=False)
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["environment"] == "test" and event["release"] == "hireops@test"
    assert event["extra"]["celery-job"]["task_name"] == "tests.errortracking.fail_with_personal_data"
    for leak in (MOBILE, EMAIL, TOKEN, "app-secret-that-must-not-leave"):
        assert leak not in sent, leak
    # Masked as the admin masks them, so the event still says what kind of value was there.
    value = event["exception"]["values"][-1]["value"]
    assert "138****8000" in value and "w***@example.com" in value and f"Bearer {FILTERED}" in value
    crumbs = [c.get("message") or "" for c in event["breadcrumbs"]["values"]]
    assert any("calling Feishu for w***@example.com" in c for c in crumbs), crumbs
    frames = [f for v in event["exception"]["values"] for f in v["stacktrace"]["frames"]]
    assert frames and not any("vars" in f for f in frames)  # no local variables


@csrf_exempt
def broken_view(request):
    raise ValueError(f"lookup failed for {request.GET['q']}")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.django_db(transaction=True)  # the session cookie is looked up, as every request does
@pytest.mark.urls(__name__)
def test_an_error_in_a_request_reaches_sentry_without_the_query_cookies_or_body(sentry):
    # Through Django's WSGI handler, as gunicorn serves the admin (the test client skips the
    # part of the handler where Sentry reads the request).
    request = RequestFactory().post(
        f"/broken/?q={MOBILE}",
        {"email": EMAIL},
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        HTTP_COOKIE="sessionid=session-cookie-value",
    )
    statuses = []
    WSGIHandler()(request.environ, lambda status, headers: statuses.append(status))
    sentry_sdk.flush()

    assert statuses == ["500 Internal Server Error"]
    [event] = sentry.events()
    sent = json.dumps(event, ensure_ascii=False)
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["request"]["method"] == "POST" and event["request"]["url"].endswith("/broken/")
    for leak in (MOBILE, EMAIL, TOKEN, "session-cookie-value"):
        assert leak not in sent, leak
    assert "data" not in event["request"]  # request bodies are never sent


def test_scrub_filters_secret_keys_and_masks_personal_values():
    event = {
        "release": "hireops@13800138000abcdef",  # ours, untouched even where it looks like a number
        "request": {
            "url": f"https://hireops.example.com/admin/?q={MOBILE}",
            "query_string": "q=1380013&p=2",  # a part of a mobile: only the query's rule masks it
            "headers": {"Authorization": f"Bearer {TOKEN}", "Cookie": "sessionid=abc"},
        },
        "extra": {"payload": {"mobile": "+86 13900139000", "email": EMAIL, "app_secret": "s3cr3t-value"}},
        "message": "account 7300000000000000001 at 1700000000000 for +44 2071838750",
    }
    out = scrub(event)
    assert out["release"] == event["release"]
    assert out["request"]["url"].endswith("q=[Filtered]")  # a query value, masked whatever it is
    assert out["request"]["query_string"] == "q=[Filtered]&p=2"
    assert out["request"]["headers"] == {"Authorization": FILTERED, "Cookie": FILTERED}
    assert out["extra"]["payload"]["app_secret"] == FILTERED
    assert out["extra"]["payload"]["email"] == "w***@example.com"
    rest = json.dumps({k: v for k, v in out.items() if k != "release"})
    assert MOBILE not in rest and "13900139000" not in rest
    # Feishu ids and millisecond timestamps are not phone numbers; a "+" number is.
    assert out["message"] == "account 7300000000000000001 at 1700000000000 for +44 2*****8750"


def test_a_secret_setting_changed_is_cut_out_of_the_next_text(settings):
    """The configured secrets are read once, not for every line; a change of one of them (an
    override in a test, as Django signals it) is taken up at once."""
    from hireops.core.privacy.scrubbing import scrub_text

    assert scrub_text(f"key {settings.FEISHU_APP_SECRET}") == f"key {FILTERED}"
    settings.FEISHU_APP_SECRET = "another-app-secret-77"
    assert scrub_text("key another-app-secret-77") == f"key {FILTERED}"
    settings.ALERT_FEISHU_BOT_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/bot-token-1234"
    assert scrub_text("hook bot-token-1234") == f"hook {FILTERED}"


PROBE = """
import json, sentry_sdk
import config.ingest
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware
from hireops.core.logs import errortracking
options = sentry_sdk.get_client().options
print(json.dumps({
    "wrapped": isinstance(config.ingest.application, SentryAsgiMiddleware),
    "before_send": options["before_send"] is errortracking.before_send,
    "collected": options["data_collection"], "locals": options["include_local_variables"],
    "body": options["max_request_body_size"], "environment": options["environment"],
    "release": options["release"],
}))
"""


def test_settings_start_sentry_for_every_process_when_a_dsn_is_set():
    env = {
        "PATH": "/usr/bin:/bin",
        "SENTRY_DSN": "http://public@127.0.0.1:9/1",
        "SENTRY_RELEASE": "hireops@1.2.3",
        "HIREOPS_VAR_DIR": str(settings.VAR_DIR),
    }
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    options = json.loads(out.stdout)
    collected = options.pop("collected")
    assert options == {
        "wrapped": True,
        "before_send": True,
        "locals": False,
        "body": "never",
        "environment": "production",
        "release": "hireops@1.2.3",
    }
    assert (
        collected.items()
        >= {
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "stack_frame_variables": False,
            "database_query_data": False,
        }.items()
    )
    without = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.ingest, sentry_sdk; print(sentry_sdk.get_client().is_active())",
        ],
        cwd=ROOT,
        env={k: v for k, v in env.items() if k != "SENTRY_DSN"},
        capture_output=True,
        text=True,
    )
    assert without.stdout.strip() == "False", without.stderr
