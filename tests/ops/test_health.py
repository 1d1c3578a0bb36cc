"""/healthz and /readyz on both servers, with each dependency up, down or hanging."""

import contextlib
import os
import socket
import threading

import pytest
import requests
from django.test import override_settings

from config.celery import app as celery_app
from hireops.ops import probes
from tests.conftest import free_port
from tests.events.payloads import ENCRYPT_KEY, TOKEN, eco_account_event, signed

DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@pytest.fixture
def silent_server():
    """A port that accepts connections and never answers: a dependency that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(sock.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    sock.close()


@pytest.fixture
def fresh_prober(monkeypatch):
    """Each test's probes on their own threads (a hung probe of one test must not answer
    "still waiting" in the next)."""
    monkeypatch.setattr(probes, "_prober", None)
    yield
    probes.close()  # its threads' database connections, before the test database goes


@pytest.mark.django_db
def test_the_admin_server_is_alive_and_ready_with_everything_up(client, fresh_prober):
    assert client.get("/healthz").json() == {"status": "alive"}
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "broker", "coordination"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_health_answers_come_before_the_host_and_tls_rules(client, settings, fresh_prober):
    # An orchestrator probes plain HTTP by the container's IP: no redirect, no 400.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["hireops.example.com"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400


def broker_at(monkeypatch, url):
    """Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it)."""
    # The configuration first: with the variable set, reading it back (what monkeypatch
    # restores afterwards) would give the variable's value.
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    # kombu's own transport for the URL's scheme (the settings name config.filesystem_broker's
    # for a filesystem:// broker).
    monkeypatch.setitem(celery_app.conf, "broker_transport", None)
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)


@pytest.mark.django_db
def test_a_broker_that_is_down_makes_the_server_not_ready(client, fresh_prober, monkeypatch):
    broker_at(monkeypatch, DEAD_REDIS)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False and checks["broker"]["detail"]
    assert checks["database"]["ok"] is True, checks
    assert "127.0.0.1" not in response.content.decode()  # the error's type only, no address
    assert client.get("/healthz").status_code == 200  # alive all the same: no restart needed


@pytest.mark.django_db
def test_a_cache_and_coordination_store_that_are_down(client, fresh_prober, settings):
    settings.FEISHU_COORDINATION_URL = DEAD_REDIS
    redis_cache = "hireops.core.redis_cache.RedisCache"  # what a redis:// cache URL chooses
    dead_cache = {"default": {"BACKEND": redis_cache, "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead_cache):
        checks = client.get("/readyz").json()["checks"]
    assert checks["cache"]["ok"] is False
    assert checks["coordination"]["ok"] is False
    assert checks["database"]["ok"] is True


@pytest.mark.django_db
def test_a_hanging_dependency_answers_not_ready_on_time(client, fresh_prober, monkeypatch, silent_server):
    monkeypatch.setattr(probes, "TIMEOUT", 0.5)
    broker_at(monkeypatch, f"redis://127.0.0.1:{silent_server}/0")
    monkeypatch.setattr(probes, "_prober", (os.getpid(), probes.Prober(probes.STANDARD, 0.5)))
    first = client.get("/readyz").json()["checks"]["broker"]
    assert first == {"ok": False, "detail": "timed out", "ms": 500.0}
    # Asked again while the first probe still hangs: answered at once, no second thread.
    again = client.get("/readyz").json()["checks"]["broker"]
    assert again["ok"] is False and again["detail"] in ("still waiting on an earlier check", "timed out")


def test_the_production_admin_server_with_its_database_down(start_admin_server):
    base = start_admin_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/hireops")
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    response = requests.get(f"{base}/readyz", timeout=5)
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_the_ingest_server_is_alive_and_ready(ingest_server):
    base = ingest_server.removesuffix("/feishu/events/")
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "alive"}
    response = requests.get(f"{base}/readyz", timeout=5)
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["inbox_writer"]["ok"] is True
    assert {"database", "broker", "cache", "coordination"} <= set(checks)


def test_the_ingest_server_is_not_ready_while_its_writer_cannot_commit(start_ingest_server, settings):
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    server = start_ingest_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/hireops")
    base = server.removesuffix("/feishu/events/")
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    body, headers = signed(eco_account_event(event_id="evt-no-db"))
    # The delivery is refused (not stored, Feishu retries) and the writer says so. With several
    # worker processes, readiness is asked on the connection the refusal came back on, again
    # until both landed on the same worker (four posts did not always reach both).
    with requests.Session() as http:
        for _ in range(20):
            assert http.post(server, data=body, headers=headers, timeout=10).status_code == 503
            response = http.get(f"{base}/readyz", timeout=10)
            if response.json()["checks"]["inbox_writer"]["ok"] is False:
                break
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    # The worker process that answered was refused by its writer: it says it cannot commit.
    assert checks["inbox_writer"] == {"ok": False, "detail": "cannot commit", "queued": 0, "refused": 0}
