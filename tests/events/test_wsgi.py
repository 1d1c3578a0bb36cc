"""The production WSGI entry point sends the webhook through its lean handler."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest

from hireops import wsgi
from hireops.events.models import FeishuEvent

from .payloads import ENCRYPT_KEY, TOKEN, eco_account_event, signed


def call(path, body=b"", headers=None, method="POST"):
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD=method,
        PATH_INFO=path,
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(body)),
        HTTP_HOST="127.0.0.1",
        SERVER_NAME="127.0.0.1",
    )
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
    environ["wsgi.input"] = io.BytesIO(body)
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, dict(response_headers)

    content = b"".join(wsgi.application(environ, start_response))
    return seen["status"], seen["headers"], content


@pytest.mark.django_db(transaction=True)
def test_webhook_goes_through_the_lean_handler(settings):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    body, headers = signed(eco_account_event(event_id="evt-wsgi"))
    status, response_headers, content = call("/feishu/events/", body, headers)
    assert status.startswith("200") and json.loads(content) == {"msg": "success"}
    assert FeishuEvent.objects.filter(event_id="evt-wsgi").exists()
    assert "Vary" not in response_headers  # no session/locale middleware touched it


@pytest.mark.django_db
def test_admin_keeps_the_full_stack():
    status, headers, _ = call("/admin/login/", method="GET")
    assert status.startswith("200")
    assert "csrftoken" in headers.get("Set-Cookie", "") and "Accept-Language" in headers.get("Vary", "")
