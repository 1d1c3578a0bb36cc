"""Logs (hireops.core.logs): JSON lines with the ids that follow a request, an event, a task and
a Feishu call across processes, and never a mobile, an email or a secret."""

import ast
import asyncio
import io
import json
import logging
import logging.config
import re
import sys
import traceback

import pytest
import requests
from django.conf import settings
from django.utils.log import configure_logging

from hireops.core.logs import current, log_scope
from hireops.core.logs.formatting import logging_config
from hireops.core.logs.redaction import RedactingFilter
from hireops.events import services, tasks
from hireops.events.inbox import writer
from hireops.events.models import EventStatus, FeishuEvent
from hireops.feishu import get_client, hire
from tests.conftest import PRODUCTION_ENV, _start_gunicorn, _stop_all
from tests.events.payloads import ENCRYPT_KEY, TOKEN, app_ticket_event, eco_account_event, signed
from tests.events.test_asgi import acall as acall_ingest_app
from tests.events.test_asgi import call as call_ingest_app
from tests.feishu.conftest import forget_tokens

MOBILE, EMAIL = "13800138000", "wang.fang@example.com"
BEARER = "Bearer t-g1044ab2f5a8e7d6c9b0a1f2e3d4c5b6a7f8e9d0c"
APP_SECRET = "app-secret-that-must-not-leave"
LEAKS = (MOBILE, EMAIL, BEARER.split()[1], APP_SECRET)
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
log = logging.getLogger("hireops.test")


def _configure(log_format: str) -> io.StringIO:
    """Logging as config.settings.logs configures it for ``LOG_FORMAT``, its console writing to a
    buffer."""
    logging.config.dictConfig(logging_config(log_format, "DEBUG"))
    [console] = logging.getLogger().handlers
    buffer = io.StringIO()
    console.setStream(buffer)
    return buffer


@pytest.fixture
def logs():
    """``LOG_FORMAT=json``; ``logs()`` returns the lines written since, parsed."""
    buffer = _configure("json")

    def lines() -> list[dict]:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        not_json = [line for line in text.splitlines() if not line.startswith("{")]
        assert not not_json, text  # every line is one JSON object
        return [json.loads(line) for line in text.splitlines()]

    yield lines
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.fixture
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN
    settings.FEISHU_APP_SECRET = APP_SECRET


def _by(lines, logger):
    return [line for line in lines if line["logger"] == logger]


def test_a_json_line_has_the_fields_and_the_bound_ids(logs):
    with log_scope(request_id="req-1"):
        log.warning("hello %s", "world")
    log.info("after")
    first, second = _by(logs(), "hireops.test")
    assert first.keys() >= {"time", "level", "logger", "message", "process", "thread"}
    assert (first["level"], first["message"], first["request_id"]) == ("WARNING", "hello world", "req-1")
    assert "request_id" not in second  # the scope ended
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])


@pytest.mark.django_db
def test_an_admin_request_logs_its_request_id_and_echoes_it(client, staff_user, logs):
    client.force_login(staff_user("Auditor"))
    resp = client.get("/admin/no-such-page/", headers={"X-Request-ID": "lb-7f3a.2:9"})
    assert resp.status_code == 404 and resp["X-Request-ID"] == "lb-7f3a.2:9"
    [not_found] = _by(logs(), "django.request")
    assert not_found["request_id"] == "lb-7f3a.2:9" and not_found["status_code"] == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming", ["has space", "x" * 129, "<script>", "-starts-with-dash", "中文", MOBILE, None]
)
def test_an_unusable_request_id_is_replaced_by_a_new_one(client, staff_user, logs, incoming):
    client.force_login(staff_user("Auditor"))
    headers = {"X-Request-ID": incoming} if incoming else {}
    resp = client.get("/admin/no-such-page/", headers=headers)
    assert GENERATED_ID.fullmatch(resp["X-Request-ID"])
    assert _by(logs(), "django.request")[0]["request_id"] == resp["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_the_ingest_app_logs_each_commit_with_its_deliveries_request_ids_and_event_ids(secrets, logs):
    body, headers = signed(eco_account_event(event_id="evt-log-1"))
    status, response_headers, _ = call_ingest_app(body, {**headers, "X-Request-ID": "feishu-req-1"})
    assert status == 200 and response_headers[b"x-request-id"] == b"feishu-req-1"
    status, response_headers, _ = call_ingest_app(body, headers)  # Feishu's retry: a duplicate
    replaced = response_headers[b"x-request-id"].decode()
    assert GENERATED_ID.fullmatch(replaced)
    status, _, _ = call_ingest_app(body, {**headers, "X-Lark-Signature": "0" * 64})
    assert status == 401

    lines = logs()
    stored, duplicate = _by(lines, "hireops.events.inbox")  # one commit each: they came one by one
    assert stored["events"] == [
        {
            "event_id": "evt-log-1",
            "event_type": "hire.eco_account.created_v1",
            "outcome": "stored",
            "via": "webhook",
            "request_id": "feishu-req-1",
        }
    ]
    assert stored["message"] == (
        "feishu events committed: 1 stored, 0 duplicate: "
        "evt-log-1 (hire.eco_account.created_v1) stored [request feishu-req-1]"
    )
    assert [(e["outcome"], e["request_id"]) for e in duplicate["events"]] == [("duplicate", replaced)]
    assert "request_id" not in stored  # written by the writer's thread, for several requests
    # DEBUG adds a line a delivery, in its request's context.
    stored, duplicate, rejected = _by(lines, "hireops.events.delivery")
    assert stored["level"] == "DEBUG"
    assert (stored["request_id"], stored["event_id"]) == ("feishu-req-1", "evt-log-1")
    assert stored["message"] == "feishu event evt-log-1 (hire.eco_account.created_v1) stored"
    assert (duplicate["request_id"], duplicate["event_id"]) == (replaced, "evt-log-1")
    assert "duplicate" in duplicate["message"]
    assert "event_id" not in rejected and "signature" in rejected["message"]  # nothing trusted yet

    logging.getLogger().setLevel(logging.INFO)  # the default: the commit's line only
    body, headers = signed(eco_account_event(event_id="evt-log-2"))
    assert call_ingest_app(body, headers)[0] == 200
    [committed] = logs()
    assert committed["logger"] == "hireops.events.inbox" and committed["events"][0]["event_id"] == "evt-log-2"
    assert current() == {}  # nothing bound outlives a delivery


@pytest.mark.django_db(transaction=True)
def test_deliveries_committed_together_share_one_line_that_names_each(secrets, logs):
    logging.getLogger().setLevel(logging.INFO)
    deliveries = [signed(eco_account_event(event_id=f"evt-together-{i}")) for i in range(5)]

    async def all_at_once():
        with writer._cv:  # the writer's thread takes none of them until all five wait
            exchanges = [
                asyncio.ensure_future(acall_ingest_app(body, {**headers, "X-Request-ID": f"req-{i}"}))
                for i, (body, headers) in enumerate(deliveries)
            ]
            for _ in range(1000):
                if len(writer._queue) == len(deliveries):
                    break
                await asyncio.sleep(0)
        return await asyncio.gather(*exchanges)

    assert [status for status, _, _ in asyncio.run(all_at_once())] == [200] * 5
    [line] = logs()
    assert line["message"].startswith("feishu events committed: 5 stored, 0 duplicate: evt-together-0 (")
    assert [(e["event_id"], e["request_id"]) for e in line["events"]] == [
        (f"evt-together-{i}", f"req-{i}") for i in range(5)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_row_stored_in_a_callers_transaction_is_logged_when_that_transaction_commits(logs):
    from django.db import transaction

    from hireops.events.verify import Envelope

    def envelope(event_id):
        return Envelope(event_id, "2.0", "hire.unknown_v1", "cli", "", "", {"header": {}})

    logging.getLogger().setLevel(logging.INFO)
    with pytest.raises(RuntimeError), transaction.atomic():  # rolled back: nothing committed, no line
        services.event_store(envelope("evt-undone"))
        raise RuntimeError
    with log_scope(request_id="req-tx"), transaction.atomic():
        services.event_store(envelope("evt-in-tx"))
        assert logs() == []  # not committed yet
    [line] = logs()
    assert line["events"] == [
        {
            "event_id": "evt-in-tx",
            "event_type": "hire.unknown_v1",
            "outcome": "stored",
            "via": "webhook",
            "request_id": "req-tx",
        }
    ]


@pytest.mark.django_db
def test_processing_logs_carry_the_event_id_and_the_task(logs):
    good = FeishuEvent.objects.create(
        event_id="evt-ok", schema="1.0", event_type="app_ticket", payload=app_ticket_event(ticket="tk-1")
    )
    broken = FeishuEvent.objects.create(  # no ticket: the handler fails
        event_id="evt-broken", schema="1.0", event_type="app_ticket", payload={"event": {}}
    )
    tasks.process_events.delay([good.pk, broken.pk])  # eager: the tracer a worker runs
    assert services.event_process(broken.pk) == EventStatus.FAILED  # again, outside any task

    processed, failed, failed_again = _by(logs(), "hireops.events.services")
    assert processed["event_id"] == "evt-ok" and processed["message"] == "event evt-ok (app_ticket) processed"
    assert failed["event_id"] == "evt-broken" and failed["level"] == "WARNING"
    for line in (processed, failed):
        assert line["task"] == "events.process_events" and line["task_id"]
    assert failed_again["event_id"] == "evt-broken" and "task" not in failed_again
    assert current() == {}


@pytest.mark.django_db
def test_an_outbound_call_logs_feishus_log_id(sandbox, settings, tmp_path, logs):
    settings.FEISHU_COORDINATION_URL = f"file://{tmp_path / 'coord'}"
    client = get_client()
    forget_tokens(client)
    fields = [hire.CustomField("org_id", "机构编号", "Org ID")]
    response = hire.create_custom_fields(client, hire.CustomFieldScope.BACKGROUND_CHECK, fields)

    [sent] = sandbox.requests("/open-apis/hire/v1/eco_account_custom_fields")
    [line] = [x for x in _by(logs(), "hireops.feishu.http") if "eco_account_custom_fields" in x["message"]]
    assert line["feishu_log_id"] == sent["logid"] == response.log_id
    assert line["feishu_endpoint"] and line["message"].startswith("feishu POST /open-apis/hire/v1/")
    assert f"log_id={sent['logid']}" in line["message"]  # the plain message is unchanged


def _log_personal_data():
    try:
        raise RuntimeError(f"Feishu refused {EMAIL}")
    except RuntimeError:
        log.exception(
            "calling Feishu for %s / %s with Authorization: %s (secret %s)",
            MOBILE,
            EMAIL,
            BEARER,
            APP_SECRET,
            extra={"contact": {"email": EMAIL, "mobile": MOBILE}, "note": f"call {MOBILE}", "token": "x-1"},
        )


def test_json_lines_carry_no_mobile_email_or_secret(secrets, logs):
    _log_personal_data()
    [line] = _by(logs(), "hireops.test")
    assert not any(leak in json.dumps(line, ensure_ascii=False) for leak in LEAKS)
    assert line["message"] == (
        "calling Feishu for 138****8000 / w***@example.com with Authorization: Bearer [Filtered] "
        "(secret [Filtered])"
    )
    assert line["contact"] == {"email": "w***@example.com", "mobile": "138****8000"}
    assert (line["note"], line["token"]) == ("call 138****8000", "[Filtered]")
    assert "RuntimeError: Feishu refused w***@example.com" in line["exception"]


def test_plain_lines_carry_no_mobile_email_or_secret(secrets):
    buffer = _configure("plain")
    try:
        _log_personal_data()
    finally:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    text = buffer.getvalue()
    assert "ERROR hireops.test calling Feishu for 138****8000 / w***@example.com" in text
    assert "Feishu refused w***@example.com" in text  # the traceback too
    assert not any(leak in text for leak in LEAKS)


def _fails(values):
    return values["a"] + 1  # a frame whose line has more than the failing part: carets in 3.11


def _raises_a_chain():
    try:
        _fails({"a": None})
    except TypeError as error:
        raise ValueError("wrapped") from error


def test_a_logged_traceback_is_pythons_without_the_carets_and_parses_no_source(monkeypatch):
    try:
        _raises_a_chain()
    except ValueError:
        exc_info = sys.exc_info()
    pythons = logging.Formatter().formatException(exc_info)
    carets = [row for row in pythons.split("\n") if row.strip() and not row.strip().strip("~^")]
    assert carets  # what is left out below
    record = logging.LogRecord("hireops.test", logging.ERROR, __file__, 1, "failed", None, exc_info)
    carets_placed, parse = [], ast.parse

    def watched_parse(*args, **kwargs):
        if any(frame.filename == traceback.__file__ for frame in traceback.extract_stack()):
            carets_placed.append(args)
        return parse(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(ast, "parse", watched_parse)
        assert RedactingFilter().filter(record)
    assert not carets_placed
    assert record.exc_text == "\n".join(row for row in pythons.split("\n") if row not in carets)
    assert "The above exception was the direct cause" in record.exc_text
    assert 'return values["a"] + 1' in record.exc_text


def test_an_unknown_log_format_stops_the_start():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config("xml", "INFO")


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.django_db(transaction=True)
def test_one_event_followed_from_the_ingest_server_to_the_worker(
    secrets, start_ingest_server, start_celery_worker
):
    """The production processes with LOG_FORMAT=json: gunicorn (its own lines too), the ingest
    app and a Celery worker all write JSON, and the event id ties their lines together."""
    server = start_ingest_server(LOG_FORMAT="json")
    worker = start_celery_worker(LOG_FORMAT="json")
    payload = app_ticket_event(ticket="tk-json", app_id="cli_json")
    body, headers = signed(payload)
    resp = requests.post(server, data=body, headers={**headers, "X-Request-ID": "push-42"}, timeout=10)
    assert resp.status_code == 200 and resp.headers["X-Request-ID"] == "push-42"
    event_id = payload["uuid"]
    worker(
        lambda: FeishuEvent.objects.get(event_id=event_id).status == EventStatus.PROCESSED, what="processed"
    )

    served = _json_lines(server.log())
    assert any(line["logger"] == "gunicorn.error" for line in served)  # "Booting worker", in JSON
    [stored] = [e for line in served for e in line.get("events", ()) if e["event_id"] == event_id]
    assert stored["request_id"] == "push-42" and stored["outcome"] == "stored"

    ran = _json_lines(worker.log_path.read_text())
    [processed] = [line for line in ran if line.get("event_id") == event_id]
    assert processed["task"] == "events.process_events" and processed["task_id"]
    assert processed["message"].endswith("processed")
    assert any(line["logger"] == "celery.apps.worker" for line in ran)  # Celery's own lines too


@pytest.mark.django_db(transaction=True)
def test_the_admin_servers_access_lines_are_json_with_the_request_id(collected_static, tmp_path):
    """gunicorn's access log (asked for as the Procfile asks: ``--access-logfile -``)."""
    env = {
        **PRODUCTION_ENV,
        "STATIC_ROOT": str(collected_static),
        "LOG_FORMAT": "json",
        "GUNICORN_CMD_ARGS": "--access-logfile -",
    }
    log_path = tmp_path / "admin.log"
    proc, port = _start_gunicorn("config.wsgi", 1, log_path, env)
    try:
        url = f"http://127.0.0.1:{port}/admin/login/?next=/admin/&hint={EMAIL}"
        resp = requests.get(url, headers={"X-Request-ID": "web-9"}, timeout=10)
        assert resp.status_code == 200 and resp.headers["X-Request-ID"] == "web-9"
    finally:
        _stop_all([proc])
    text = log_path.read_text()
    lines = [line for line in _json_lines(text) if line["logger"] == "gunicorn.access"]
    [access] = [line for line in lines if "/healthz" not in line["message"]]  # not the start's probe
    assert access["request_id"] == "web-9" and "GET /admin/login/" in access["message"]
    # Query values are masked unless their key is known to be harmless (hireops.core.secrets.secret_urls).
    assert "hint=[Filtered]" in access["message"] and EMAIL not in text
