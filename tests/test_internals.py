"""Where hireops leans on a library's internals (docs/internals.md), the behaviour it relies on,
on the versions it was verified on.

Each test first asks that the installed library is within the versions the entry was verified on
(``VERIFIED``), then plays the behaviour the entry relies on. An upgrade past those versions
fails here until someone has checked the entries of that library and widened its range; an
upgrade within them that changes the behaviour fails on the behaviour. The range starts at the
version verified and ends before the next series the library may change its internals in (its
next minor release; for a 0.x library, its next 0.x).
"""

import asyncio
import hashlib
import re
import socket
import threading
import time
import uuid
from importlib import metadata
from queue import Empty

import pytest
from packaging.version import Version

# distribution → (the version verified, the first version not verified)
VERIFIED = {
    "django": ("5.2.19", "5.3"),
    "uvicorn": ("0.54.0", "0.55"),
    "httptools": ("0.9.0", "0.10"),
    "redis": ("8.1.0", "8.2"),
    "django-allauth": ("65.21.1", "65.22"),
    "celery": ("5.7.0", "5.8"),
    "kombu": ("5.7.0", "5.8"),
    "pytest-django": ("4.14.0", "4.15"),
    "requests": ("2.34.2", "2.35"),
    "prometheus-client": ("0.26.0", "0.27"),
    "gunicorn": ("27.0.1", "27.1"),
    "django-ninja": ("1.7.1", "1.8"),
    "urllib3": ("2.8.0", "2.9"),
}


def verified(distribution: str) -> None:
    lowest, below = VERIFIED[distribution]
    installed = Version(metadata.version(distribution))
    assert Version(lowest) <= installed < Version(below), (
        f"{distribution} {installed}: hireops leans on its internals, verified from {lowest} up to"
        f" {below} (docs/internals.md): check its entries there, then widen VERIFIED"
    )


@pytest.mark.parametrize("distribution", sorted(VERIFIED))
def test_every_library_leaned_on_is_a_version_its_entries_were_verified_on(distribution):
    """The version half of every entry; the behaviour half is the entry's own test (below, or
    the one docs/internals.md names beside it)."""
    verified(distribution)


# --- uvicorn: the ingest server's protocol (hireops/events/ingest_worker.py) --------------------


class _Server:
    """uvicorn's server with ``DeadlineProtocol`` on a loop of its own thread, as ``IngestWorker``
    runs it, answering every request with the body it read."""

    def __init__(self, read_timeout: float):
        from uvicorn.config import Config
        from uvicorn.server import Server

        from hireops.events.ingest_worker import DeadlineProtocol

        self.requests: list[bytes] = []
        self.protocol = type("Timed", (DeadlineProtocol,), {"read_timeout": read_timeout})
        config = Config(
            app=self._app,
            interface="asgi3",
            http=self.protocol,
            loop="asyncio",
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
        )
        self.server = Server(config)
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=asyncio.run, args=(self.server.serve([self.socket]),))

    async def _app(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        self.requests.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()

    def exchange(self, sent: bytes, pause: float = 0.0) -> bytes:
        """What the server answers ``sent`` (after ``pause``, the rest of a request never sent)."""
        with socket.create_connection(self.socket.getsockname(), timeout=5) as conn:
            conn.sendall(sent)
            time.sleep(pause)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and not pause and answer.startswith(b"HTTP/1.1 200"):
                    break
            return answer


def test_the_ingest_protocol_is_called_back_by_uvicorn_as_it_relies_on():
    """``DeadlineProtocol`` subclasses uvicorn's ``HttpToolsProtocol``: it relies on uvicorn
    taking the protocol class from ``Config(http=...)``, on httptools calling ``on_url``,
    ``on_header``, ``on_headers_complete``, ``on_body`` and ``on_message_complete`` on it, and on
    ``self.url``, ``self.transport`` and ``self.loop``. What it gives: a request within the
    limits reaches the application; a long request line is a 414, too many headers a 431, and
    headers that do not arrive in time a 408, all before any application runs."""
    verified("uvicorn")
    verified("httptools")
    from hireops.events.ingest_worker import LIMIT_REQUEST_FIELDS, LIMIT_REQUEST_LINE

    with _Server(read_timeout=0.5) as server:
        body = b'{"a": 1}'
        head = b"POST /feishu/events/ HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
        assert server.exchange(head + body).startswith(b"HTTP/1.1 200")
        assert server.requests == [body]

        long_line = b"GET /" + b"a" * LIMIT_REQUEST_LINE + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert server.exchange(long_line).startswith(b"HTTP/1.1 414")
        many = b"".join(b"X-%d: 1\r\n" % i for i in range(LIMIT_REQUEST_FIELDS + 1))
        assert server.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n").startswith(b"HTTP/1.1 431")
        assert server.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n", pause=1.0).startswith(b"HTTP/1.1 408")
        assert server.requests == [body]  # no refused request reached the application


# --- redis-py under Django's Redis cache (hireops/core/redis_cache.py, hireops/api/ratelimit.py) ---


def test_the_redis_cache_makes_one_client_a_pool_as_it_relies_on(monkeypatch):
    """``hireops.core.redis_cache`` relies on Django's ``RedisCacheClient`` choosing a pool with
    ``_get_connection_pool(write)`` and building its client from ``_client(connection_pool=)``,
    and on a redis-py client holding nothing but its pool and its callbacks (so one can serve
    every call). Django's own builds a client a call (what it replaces); ours one a pool. No
    Redis is needed: a pool connects only when a command is sent."""
    verified("django")
    verified("redis")
    import redis
    from django.core.cache.backends.redis import RedisCacheClient as DjangosClient

    from hireops.core.redis_cache import RedisCacheClient

    made = []
    construct = redis.Redis.__init__
    monkeypatch.setattr(
        redis.Redis, "__init__", lambda self, *a, **kw: made.append(1) or construct(self, *a, **kw)
    )
    servers = ["redis://127.0.0.1:1/0", "redis://127.0.0.1:1/1"]  # a primary and a replica

    djangos = DjangosClient(servers)
    assert djangos.get_client(write=True) is not djangos.get_client(write=True)
    assert len(made) == 2  # what it replaces: a client (and its table of callbacks) a call

    ours = RedisCacheClient(servers)
    writer = ours.get_client(write=True)
    assert writer is ours.get_client(write=True)
    assert writer.connection_pool is ours._get_connection_pool(True)
    assert isinstance(writer.connection_pool, redis.ConnectionPool)
    assert ours.get_client(write=False).connection_pool is ours._get_connection_pool(False)
    assert len(made) == 4  # one for the primary's pool, one for the replica's


def test_the_rate_limit_reaches_the_caches_redis_client_as_it_relies_on():
    """``hireops.api.ratelimit`` and ``hireops.api.counting`` run their scripts, and send their
    pipelines, through the redis-py client Django's ``RedisCache`` keeps behind ``_cache`` (a
    ``RedisCacheClient``), reached in one place (``counting.redis_client``). No Redis is
    needed: nothing is sent."""
    verified("django")
    verified("redis")
    import redis
    from django.core.cache.backends.redis import RedisCacheClient

    from hireops.api import counting, ratelimit
    from hireops.core.redis_cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:1/0", {})
    assert isinstance(cache._cache, RedisCacheClient)
    client = counting.redis_client(cache, cache.make_and_validate_key("k"))
    assert isinstance(client, redis.Redis)
    script = counting.script(client, ratelimit._TAKE)
    assert script.registered_client is client and len(script.sha) == 40
    assert counting.script(client, ratelimit._TAKE) is script  # registered once per client
    pipeline = client.pipeline(transaction=False)
    pipeline.hincrby("k", "f", 1)
    pipeline.expire("k", 65, nx=True)
    sent = [command for command, _options in pipeline.command_stack]
    assert sent == [("HINCRBY", "k", "f", 1), ("EXPIRE", "k", 65, "NX")]


# --- Django ----------------------------------------------------------------------------------------


def test_a_refusal_whose_path_holds_a_secret_is_not_logged_by_django(rf, caplog):
    """``hireops.signin.refusals.refusal_page(secret_path=True)`` marks its answer as Django's
    ``log_response`` marks one it has logged (``_has_been_logged``), so the path, which holds
    an invitation's token, never reaches Django's log of 4xx answers."""
    verified("django")
    from django.utils.log import log_response

    from hireops.signin.refusals import Reason, refusal_page

    request = rf.get("/signin/invitation/a-secret-token/")
    marked = refusal_page(request, Reason.INVITATION_INVALID, status=404, secret_path=True)
    plain = refusal_page(request, Reason.INVITATION_INVALID, status=404)
    with caplog.at_level("WARNING", logger="django.request"):
        log_response("Not Found: %s", request.path, response=marked, request=request)
        assert not caplog.records
        log_response("Not Found: %s", request.path, response=plain, request=request)
        assert [r.getMessage() for r in caplog.records] == ["Not Found: /signin/invitation/a-secret-token/"]


def test_a_new_password_is_known_until_the_save_as_signin_relies_on(django_user_model):
    """``hireops.signin.changes`` tells a password change from a hasher's upgrade by Django
    keeping the raw password in ``_password`` from ``set_password`` until the save (a hasher's
    upgrade in ``check_password`` clears it again before its own save)."""
    verified("django")
    user = django_user_model(username="someone")
    assert user._password is None
    user.set_password("Pw-123456!")
    assert user._password == "Pw-123456!"
    user.save()
    assert user._password is None


def test_the_report_and_export_storages_follow_a_settings_change(settings, tmp_path):
    """``orders.storage`` and ``hireops.jobs.exports`` hold their storage in a ``LazyObject`` that
    a change of ``STORAGES`` empties (``_wrapped = empty``, as Django's own test signals do for
    ``default_storage``), so it is looked up again."""
    verified("django")
    from django.core.files.storage import FileSystemStorage

    from hireops.jobs.exports import export_storage
    from orders.storage import report_storage

    storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }
    settings.STORAGES = {**settings.STORAGES, "reports": storage, "exports": storage}
    for lazy in (report_storage(), export_storage()):
        assert isinstance(lazy._wrapped, type(lazy._wrapped)) and lazy.location == str(tmp_path)
        assert isinstance(lazy._wrapped, FileSystemStorage)


def test_every_action_of_an_admin_is_listed_before_permissions_filter_it():
    """``hireops.core.admin.actions.offenders`` (the system check hireops.E035) reads each
    admin's actions with ``_get_base_actions()``: every action, the site's included, before
    ``get_actions(request)`` filters them by the request's permissions."""
    verified("django")
    from django.contrib import admin
    from django.contrib.auth.models import Group

    model_admin = admin.site.get_model_admin(Group)
    names = [name for _func, name, _description in model_admin._get_base_actions()]
    assert "delete_selected" in names  # the site's own action
    assert set(names) >= set(model_admin.get_actions(_request_of_superuser()))


def _request_of_superuser():
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    return request


# --- kombu: the embedded broker (config/filesystem_broker.py) -------------------------------------


def test_the_embedded_broker_is_written_through_and_read_by_kombu_as_it_relies_on(
    tmp_path, monkeypatch, caplog
):
    """``Channel._put`` replaces kombu's filesystem channel's: it relies on kombu sending every
    message of the transport through ``_put(queue, payload)`` with the channel's
    ``data_folder_out`` to write in, and on kombu's ``_get`` taking only a file named
    ``<…>.<queue>.msg`` (never the ``.<name>.part`` still being written) and reading its JSON
    as the message. ``Transport.default_connection_params`` relies on kombu taking a missing
    hostname from that property: kombu's own transport names "localhost" there and warns."""
    verified("kombu")
    from kombu import Connection
    from kombu.transport import filesystem

    from config.filesystem_broker import Channel, Transport

    written = []
    put = Channel._put

    def recorded(self, queue, payload, **kwargs):
        written.append((queue, self.data_folder_out))
        put(self, queue, payload, **kwargs)

    monkeypatch.setattr(Channel, "_put", recorded)
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "polling_interval": 0,
    }
    # kombu keeps the filesystem transport's bindings for the whole process (its global_state),
    # not per folder: a queue another test bound to its own folder would be taken as bound here
    # and the message routed nowhere. A queue of this test's own.
    name = f"relied-{uuid.uuid4().hex[:8]}"
    with Connection(transport=Transport, transport_options=options) as connection:
        queue = connection.SimpleQueue(name)
        queue.put({"n": 1})
        assert written == [(name, str(tmp_path))]  # kombu sent it through the override
        [file] = [path.name for path in tmp_path.iterdir() if path.is_file()]
        assert re.fullmatch(rf"\d+_[0-9a-f-]{{36}}\.{name}\.msg", file)
        (tmp_path / f".{file}.part").write_bytes(b'{"n": ')  # one being written, listed first
        message = queue.get(timeout=5)
        assert message.payload == {"n": 1}
        message.ack()
        with pytest.raises(Empty):
            queue.get(block=False)  # the half-written file is not a message
        assert [path.name for path in tmp_path.glob(".*.part")]  # and it was left where it is

    # A "filesystem://" broker names no host (as the settings' does).
    with caplog.at_level("WARNING", logger="kombu.connection"):
        with Connection(
            "filesystem://", transport=filesystem.Transport, transport_options=options
        ) as connection:
            assert connection.info()["hostname"] == "localhost"  # kombu's own default, taken from there
        assert any("No hostname was supplied" in r.getMessage() for r in caplog.records)
        caplog.clear()
        with Connection("filesystem://", transport=Transport, transport_options=options) as connection:
            assert connection.info()["hostname"] is None
        assert not [r for r in caplog.records if "hostname" in r.getMessage()]


# --- templates copied from a library (templates/) ---------------------------------------------------

# A library's template that hireops overrides with a copy of its markup (changed where the copy
# says why) → the start of the sha256 of the library's own file when the copy was made: a new
# version of that file fails here, so the copy is made again from it.
COPIED = {
    "django": {
        "admin/pagination.html": "381bc2d87585687d",
        "admin/object_history.html": "e5eea48bb0bde182",
        "admin/app_list.html": "1fe91b190f34630d",  # written in Python: admin_app_list
    },
    "django-allauth": {
        "account/base_reauthenticate.html": "3c03c732d9f8e91f",
        "mfa/totp/activate_form.html": "c7268f27735c6513",
        "mfa/webauthn/authenticator_list.html": "e8be87b8c97b408e",
        "allauth/elements/field.html": "e3a64f1e4ca35d95",
        "allauth/elements/button.html": "4261ec646c26be91",
        "allauth/elements/form.html": "a1401cefffdd6d55",
        "allauth/elements/panel.html": "7e5807456bb1b338",
        "allauth/elements/badge.html": "c37bac7deffd2c07",
        "allauth/elements/button_group.html": "13576c602173d51b",
        "allauth/elements/img.html": "16d54ea7399b56e9",
        "allauth/layouts/base.html": "f7fc39128d98000f",
    },
}


@pytest.mark.parametrize("distribution", sorted(COPIED))
def test_each_copied_template_still_overrides_the_librarys_file_it_was_copied_from(distribution):
    """A copy overrides the library's template of the same name: it must still have one (else the
    copy silently stops applying), and that file must be the one copied (else the library's new
    markup, or a fix in it, is lost under the copy)."""
    verified(distribution)
    from django.conf import settings
    from django.template import engines
    from django.template.loaders.app_directories import Loader

    library = Loader(engines["django"].engine)
    for name, digest in COPIED[distribution].items():
        assert (settings.BASE_DIR / "templates" / name).exists(), name
        original = library.get_template(name)
        assert hashlib.sha256(original.source.encode()).hexdigest()[:16] == digest, (
            f"{name} changed in {distribution}: copy it again (templates/{name}) and note the new digest"
        )


# --- what the test suite itself leans on (tests/) ---------------------------------------------------


@pytest.mark.django_db
def test_the_suites_own_reach_into_its_libraries_holds():
    """tests/conftest.py, tests/fast_flush.py, tests/template_db.py and a few tests use names
    their libraries keep private (docs/internals.md, "The test suite"): each still exists and
    means what they rely on."""
    for distribution in ("django", "celery", "pytest-django", "requests", "prometheus-client"):
        verified(distribution)
    import requests
    from celery import _state
    from django.contrib import admin
    from django.db import connection
    from django.test import Client, TransactionTestCase
    from prometheus_client import CollectorRegistry, Counter

    # conftest: the test case's own atomic blocks are marked, the Feishu-call check skips them
    assert connection.atomic_blocks and all(a._from_testcase for a in connection.atomic_blocks)
    assert callable(Client._login) and callable(_state._set_task_join_will_block)
    # fast_flush replaces the teardown that flushes, per database of the test case
    assert callable(TransactionTestCase._fixture_teardown)
    assert list(TransactionTestCase._databases_names(include_mirrors=False)) == ["default"]
    # template_db and the loop writer connect with Django's own parameters
    params = connection.get_connection_params()
    assert isinstance(params, dict) and params
    # tests iterate the site's registrations: what the public API says is registered
    from django.apps import apps

    registered = {m: admin.site.get_model_admin(m) for m in apps.get_models() if admin.site.is_registered(m)}
    assert admin.site._registry == registered
    # the Feishu client's stubs build answers; the metrics test reads a metric's name
    response = requests.Response()
    response._content = b"{}"
    assert response.json() == {}
    assert Counter("made_here", "a counter", registry=CollectorRegistry())._name == "made_here"
