"""Secrets in URLs never reach a log, in either LOG_FORMAT: searched mobiles and emails
(``?q=``), OAuth ``code=`` values, invitation tokens and report links' signatures, in
gunicorn's access lines (the admin and the ingest server run as production runs them, with
the Procfile's ``--access-logfile -``), in Django's "Not Found" warnings, in a
``manage.py`` command's lines and in a Celery worker's.

The rules (``hireops.core.secrets.secret_urls``) need no app's name: every query value is masked
unless its key is known to be harmless, and every URL pattern that declares a ``<secret:…>``
segment, found in the URL resolver, has that segment masked."""

import io
import logging
import logging.config
import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings
from django.core import signing
from django.urls import URLResolver, get_resolver, reverse
from django.utils.log import configure_logging

from config.celery import app as celery_app
from hireops.core.logs.formatting import logging_config
from hireops.core.privacy.scrubbing import scrub_text
from hireops.core.secrets.secret_urls import FILTERED, SAFE_QUERY_KEYS, SecretConverter, path_rules
from orders.reports import SALT
from tests.conftest import ROOT, subprocess_env

FORMATS = ("plain", "json")
MOBILE_PART, EMAIL = "1380013", "wang.fang@example.com"  # a partial mobile: no pattern finds it
CODE, STATE = "oauth-code-4f9a2c", "oauth-state-77b1e0"
SECRET = "S3cr3tSegment-91xQ"  # what each <secret:…> segment is given


def secret_routes() -> list[tuple[str, list[str], list[str]]]:
    """(URL name, its parameters, the secret ones) of every pattern with a secret segment, read
    from the resolver: every pattern the project and its libraries mount."""
    found = []

    def walk(patterns, converters):
        for pattern in patterns:
            chain = {**converters, **getattr(pattern.pattern, "converters", {})}
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, chain)
            elif any(isinstance(c, SecretConverter) for c in chain.values()):
                secret = [name for name, c in chain.items() if isinstance(c, SecretConverter)]
                found.append((pattern.name, list(chain), secret))

    walk(get_resolver().url_patterns, {})
    return found


def secret_urls() -> list[str]:
    """One URL per secret pattern, each secret segment ``SECRET``, the others a plain word."""
    return [
        reverse(name, kwargs={p: SECRET if p in secret else "report.pdf" for p in params})
        for name, params, secret in secret_routes()
    ]


def test_the_enumeration_finds_the_invitation_and_the_report_link():
    routes = {name: secret for name, _params, secret in secret_routes()}
    assert routes["signin_invitation"] == ["token"] and routes["order-report"] == ["token"]
    assert len(path_rules()) == len(routes)  # one rule per pattern, none forgotten
    assert all(name for name in routes), "a secret pattern needs a name to be tested"


@pytest.mark.parametrize("url", secret_urls())
def test_each_secret_segment_is_masked_and_the_rest_of_the_path_kept(url):
    line = f'127.0.0.1 - - "GET {url}?p=2&q={MOBILE_PART} HTTP/1.1" 404 "https://h{url}"'
    masked = scrub_text(line)
    assert SECRET not in masked and MOBILE_PART not in masked
    assert masked.count(FILTERED) == 3 and url.replace(SECRET, FILTERED) in masked and "p=2" in masked


def test_query_values_are_masked_unless_their_key_is_harmless():
    keys = sorted(SAFE_QUERY_KEYS)
    kept = scrub_text("/admin/x/?" + "&".join(f"{k}=1" for k in keys))
    assert kept == "/admin/x/?" + "&".join(f"{k}=1" for k in keys)
    for query in (f"q={MOBILE_PART}", "q=wang.fang%40example.com", f"code={CODE}", "next=%2Fa%2F%3Fq%3D1"):
        assert scrub_text(f"GET /a/?{query} HTTP/1.1") == f"GET /a/?{query.split('=')[0]}={FILTERED} HTTP/1.1"
    assert (
        scrub_text("feishu GET /open-apis/x status=200 code=0") == "feishu GET /open-apis/x status=200 code=0"
    )


# --- The servers, as production runs them -------------------------------------------------------


def leaky_requests(base: str) -> list[str]:
    """What an attacker who reads the logs would look for: each request's secret part."""
    signature = signing.TimestampSigner(salt=SALT).sign("4242")  # a real signature: a 404 (no report)
    paths = [
        f"/admin/referrals/referralaccount/?q={MOBILE_PART}",
        "/admin/referrals/referralaccount/?q=wang.fang%40example.com",
        f"/accounts/feishu/login/callback/?code={CODE}&state={STATE}",
        *secret_urls(),
        f"/orders/reports/{signature}/report.pdf",
    ]
    for path in paths:
        requests.get(base + path, timeout=10, allow_redirects=False, headers={"Referer": base + path})
    return [MOBILE_PART, "wang.fang", CODE, STATE, SECRET, signature.split(":", 1)[1]]


def wait_for(log, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while text not in (found := log()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("log_format", FORMATS)
def test_the_admin_servers_log_keeps_no_secret_of_a_url(start_admin_server, tmp_path, log_format):
    base = start_admin_server(LOG_FORMAT=log_format, GUNICORN_CMD_ARGS="--access-logfile -")
    [log_path] = tmp_path.glob("admin-server-*.log")
    secrets = leaky_requests(base)
    text = wait_for(log_path.read_text, "/orders/reports/")
    assert not [s for s in secrets if s in text], text[-3000:]
    # Not vacuous: each request has its access line, masked, and so has Django's warning of a
    # 404 where the view leaves it to Django (a refused invitation logs its reason only).
    assert text.count(f"q={FILTERED}") >= 2 and f"code={FILTERED}&state={FILTERED}" in text
    for url in secret_urls():
        assert f"GET {url.replace(SECRET, FILTERED)}" in text, url
    assert f"Not Found: /orders/reports/{FILTERED}/report.pdf" in text


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("log_format", FORMATS)
def test_the_ingest_servers_access_lines_keep_no_secret_of_a_url(start_ingest_server, log_format):
    server = start_ingest_server(LOG_FORMAT=log_format, GUNICORN_CMD_ARGS="--access-logfile -")
    base = server.removesuffix("/feishu/events/")
    secrets = leaky_requests(base)
    requests.post(f"{server}?code={CODE}", data=b"{}", timeout=10)
    text = wait_for(server.log, "/feishu/events/")
    assert not [s for s in secrets if s in text], text[-3000:]
    assert f"/feishu/events/?code={FILTERED}" in text
    assert f"/accounts/feishu/invitation/{FILTERED}/" in text  # the rules came from the URLconf


@pytest.mark.django_db
@pytest.mark.parametrize("log_format", FORMATS)
def test_djangos_not_found_warning_keeps_no_secret(client, log_format):
    logging.config.dictConfig(logging_config(log_format, "INFO"))
    [console] = logging.getLogger().handlers
    console.setStream(buffer := io.StringIO())
    try:
        for url in secret_urls():
            assert client.get(f"{url}?code={CODE}").status_code == 404
    finally:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    text = buffer.getvalue()
    assert "Not Found" in text and SECRET not in text and CODE not in text
    # A view may leave its 404 unlogged (a refused invitation logs its reason only); each one
    # Django does log shows the secret segment masked.
    not_found = [line for line in text.splitlines() if "Not Found" in line]
    assert not_found and all(f"/{FILTERED}/" in line for line in not_found), not_found


@pytest.mark.parametrize("log_format", FORMATS)
@pytest.mark.processes
def test_a_management_commands_lines_keep_no_secret(log_format):
    line = "GET /accounts/feishu/invitation/{s}/?code={c} from https://h/orders/reports/{s}/r.pdf"
    code = f"import logging; logging.getLogger('hireops.test').warning({line.format(s=SECRET, c=CODE)!r})"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=subprocess_env(LOG_FORMAT=log_format),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert line.format(s=FILTERED, c=FILTERED) in result.stderr and SECRET not in result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("log_format", FORMATS)
def test_a_celery_workers_lines_keep_no_secret(start_celery_worker, log_format):
    """Celery quotes a message it cannot run in full: the URL in it is masked."""
    worker = start_celery_worker(LOG_FORMAT=log_format)
    url = f"/accounts/feishu/invitation/{SECRET}/?code={CODE}"
    celery_app.send_task("hireops.no_such_task", args=[url])
    worker(lambda: "no_such_task" in worker.log_path.read_text(), what="the message received")
    text = worker.log_path.read_text()
    assert f"/accounts/feishu/invitation/{FILTERED}/?code={FILTERED}" in text
    assert SECRET not in text and CODE not in text
