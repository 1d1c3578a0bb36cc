"""The log of refused deliveries: what each refusal records (through the Django view and the
ASGI app), what is never stored, and that a flood can neither grow the table past its cap
nor be recorded faster than the rate limit, without losing count of what it refused."""

import asyncio
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from hireops.core.auth import roles
from hireops.events.asgi import application
from hireops.events.models import HINTS, FeishuEvent, RejectedDelivery
from hireops.events.rejected_deliveries import BODY_BYTES
from hireops.events.rejection_recorder import MAX_QUEUE, recorder
from hireops.events.services import events_prune
from hireops.events.verify import MAX_BODY_BYTES, Kind

from .payloads import ENCRYPT_KEY, TOKEN, app_ticket_event, eco_account_event, signed

URL = "/feishu/events/"
PEER = ("203.0.113.7", 40123)
# Sent with every delivery: kept (the first three), or never stored (the last two).
EXTRA = {
    "User-Agent": "Feishu-OpenPlatform-Test",
    "X-Forwarded-For": "198.51.100.4, 10.0.0.1",
    "X-Request-Id": "req-42",
    "Authorization": "Bearer never-store-me",
    "Cookie": "sessionid=never-store-me-either",
}


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


@pytest.fixture(autouse=True)
def fresh_recorder(request):
    """A full bucket, nothing pending, and no row another test's refusal left behind."""
    assert recorder.flush()
    recorder.reset()
    if request.node.get_closest_marker("django_db"):
        RejectedDelivery.objects.all().delete()
    yield
    assert recorder.flush()
    recorder.reset()


def _event_with(**header):
    payload = eco_account_event()
    payload["header"].update(header)
    return signed(payload)


def _two_days_ago():
    return str(int((timezone.now() - timedelta(days=2)).timestamp()))


# kind → (method, body and headers, settings, status answered)
CASES = {
    Kind.EMPTY_BODY: ("POST", lambda: (b"", {}), {}, 400),
    Kind.TOO_LARGE: ("POST", lambda: (b"{" + b" " * MAX_BODY_BYTES + b"}", {}), {}, 413),
    Kind.BAD_JSON: ("POST", lambda: (b"{not json", {}), {}, 400),
    Kind.TOO_DEEP: ("POST", lambda: (b"[" * 100_000, {}), {}, 400),
    Kind.NO_ENCRYPT_KEY: ("POST", lambda: signed(eco_account_event()), {"FEISHU_ENCRYPT_KEY": ""}, 400),
    Kind.DECRYPT_FAILED: ("POST", lambda: signed(eco_account_event(), key="another-key"), {}, 400),
    Kind.TOKEN_MISMATCH: ("POST", lambda: signed(eco_account_event(token="forged")), {}, 403),
    Kind.CHALLENGE_MISSING: (
        "POST",
        lambda: (json.dumps({"type": "url_verification", "token": TOKEN}).encode(), {}),
        {},
        400,
    ),
    Kind.SIGNATURE_MISSING: ("POST", lambda: (signed(eco_account_event())[0], {}), {}, 401),
    Kind.SIGNATURE_MISMATCH: (
        "POST",
        lambda: (lambda b, h: (b, {**h, "X-Lark-Signature": "0" * 64}))(*signed(eco_account_event())),
        {},
        401,
    ),
    Kind.TIMESTAMP_WINDOW: ("POST", lambda: signed(eco_account_event(), ts=_two_days_ago()), {}, 401),
    Kind.NOT_AN_EVENT: ("POST", lambda: signed({"hello": "world"}), {}, 400),
    Kind.BAD_EVENT_ID: ("POST", lambda: _event_with(event_id=""), {}, 400),
    Kind.BAD_EVENT_TYPE: ("POST", lambda: _event_with(event_type=""), {}, 400),
    Kind.METHOD_NOT_ALLOWED: ("GET", lambda: (b"", {}), {}, 405),
}


def test_every_kind_of_refusal_has_a_case_and_a_hint():
    assert set(CASES) == set(Kind) == set(HINTS)


def django_call(client, method, body, headers) -> tuple[int, str]:
    resp = client.generic(
        method, URL, data=body, content_type="application/json", headers={**EXTRA, **headers}
    )
    return resp.status_code, resp.json()["msg"] if resp.content else "method not allowed"  # Django's 405


def _scope(method, headers, *, with_length=True, body=b""):
    headers = {k.lower(): v for k, v in {**EXTRA, **headers}.items()}
    if with_length:
        headers.setdefault("content-length", str(len(body)))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": b"",
        "client": PEER,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


async def _exchange(scope, chunks) -> tuple[int, str]:
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])["msg"] if sent[0]["status"] != 200 else ""


def asgi_call(method, body, headers, *, chunks=None) -> tuple[int, str]:
    scope = _scope(method, headers, with_length=chunks is None, body=body)
    return asyncio.run(_exchange(scope, chunks or [body]))


def asgi_flood(n: int, body=b"{not json") -> list[int]:
    """n refused deliveries at once on one event loop, as the ingest server takes them."""

    async def all_at_once():
        scope = _scope("POST", {}, body=body)
        return await asyncio.gather(*(_exchange(scope, [body]) for _ in range(n)))

    return [status for status, _msg in asyncio.run(all_at_once())]


def assert_recorded(row, kind, status, reason, *, remote_addr):
    assert (row.kind, row.status, row.reason) == (kind, status, reason)
    assert row.remote_addr == remote_addr and row.forwarded_for == "198.51.100.4, 10.0.0.1"
    assert row.headers["user-agent"] == "Feishu-OpenPlatform-Test" and row.headers["x-request-id"] == "req-42"
    assert "authorization" not in row.headers and "cookie" not in row.headers
    assert "never-store-me" not in json.dumps(row.headers) + row.body_excerpt
    assert row.hint == HINTS[kind] and row.suppressed_before == 0
    assert row.received_at > timezone.now() - timedelta(minutes=1)
    assert not FeishuEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", list(CASES), ids=str)
def test_each_refusal_through_the_django_view_is_recorded(client, settings, kind):
    method, make, overrides, status = CASES[kind]
    body, headers = make()
    for name, value in overrides.items():
        setattr(settings, name, value)
    answered, reason = django_call(client, method, body, headers)
    assert answered == status
    assert recorder.flush()
    [row] = RejectedDelivery.objects.all()
    assert_recorded(row, kind, status, reason, remote_addr="127.0.0.1")
    assert row.body_size == len(body)
    if kind == Kind.SIGNATURE_MISMATCH:
        assert row.headers["x-lark-signature"] == "0" * 64
    if kind == Kind.TOO_LARGE:  # refused on its Content-Length, before reading a byte
        assert row.body_excerpt == ""
    elif body:
        assert row.body_excerpt[:10] == body[:10].decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", list(CASES), ids=str)
def test_each_refusal_through_the_asgi_app_is_recorded(settings, kind):
    method, make, overrides, status = CASES[kind]
    body, headers = make()
    for name, value in overrides.items():
        setattr(settings, name, value)
    answered, reason = asgi_call(method, body, headers)
    assert answered == status
    assert recorder.flush()
    [row] = RejectedDelivery.objects.all()
    assert_recorded(row, kind, status, reason, remote_addr=PEER[0])
    if headers:
        assert row.headers["x-lark-request-nonce"] == headers["X-Lark-Request-Nonce"]


@pytest.mark.django_db(transaction=True)
def test_a_body_streamed_past_the_limit_is_recorded_with_its_start():
    big = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert asgi_call("POST", big, {}, chunks=[big[:600_000], big[600_000:]]) == (413, "body too large")
    assert recorder.flush()
    [row] = RejectedDelivery.objects.all()
    assert row.kind == Kind.TOO_LARGE and row.body_size > MAX_BODY_BYTES
    assert row.body_excerpt.startswith('{"pad": "xxx') and len(row.body_excerpt.encode()) <= BODY_BYTES


@pytest.mark.django_db(transaction=True)
def test_accepted_deliveries_record_nothing(client):
    body, headers = signed(eco_account_event(event_id="evt-ok-view"))
    assert django_call(client, "POST", body, headers)[0] == 200
    assert asgi_call("POST", *signed(app_ticket_event(ticket="tk-ok")))[0] == 200
    challenge = json.dumps({"type": "url_verification", "token": TOKEN, "challenge": "c-1"}).encode()
    assert asgi_call("POST", challenge, {})[0] == 200
    assert recorder.flush()
    assert FeishuEvent.objects.count() == 2 and not RejectedDelivery.objects.exists()


# --- What is never stored -------------------------------------------------------------------

MOBILE, EMAIL, OTHER_TOKEN = "13800138000", "zhangsan@example.com", "a-real-token-of-another-app-123"


def _plain(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


@pytest.mark.django_db
def test_a_mismatched_token_and_personal_data_in_a_plain_body_are_never_stored(client, caplog):
    caplog.set_level("DEBUG")
    payload = eco_account_event(token=OTHER_TOKEN, candidate={"mobile": MOBILE, "email": EMAIL})
    assert django_call(client, "POST", *signed(payload, encrypt=False))[0] == 403
    # Inside the test's transaction the row is written at once (the Django view under ATOMIC_REQUESTS).
    [row] = RejectedDelivery.objects.all()
    assert row.kind == Kind.TOKEN_MISMATCH
    assert '"token": ""' in row.body_excerpt and OTHER_TOKEN not in row.body_excerpt
    assert MOBILE not in row.body_excerpt and "138****8000" in row.body_excerpt
    assert EMAIL not in row.body_excerpt and "z***@example.com" in row.body_excerpt
    assert not any(s in caplog.text for s in (OTHER_TOKEN, MOBILE, EMAIL))


@pytest.mark.django_db
def test_the_configured_token_is_never_stored(client):
    """A URL check with the right token but no challenge: the token is blanked like any other."""
    body = _plain({"type": "url_verification", "token": TOKEN, "challenge": None})
    assert django_call(client, "POST", body, {})[0] == 400
    [row] = RejectedDelivery.objects.all()
    assert row.kind == Kind.CHALLENGE_MISSING and TOKEN not in json.dumps(row.headers) + row.body_excerpt


@pytest.mark.django_db
def test_an_encrypted_body_keeps_less_than_its_iv(client):
    body, headers = signed(eco_account_event(), key="another-key")
    ciphertext = json.loads(body)["encrypt"]
    assert django_call(client, "POST", body, headers)[0] == 400
    [row] = RejectedDelivery.objects.all()
    assert row.body_excerpt == '{"encrypt": "' + ciphertext[:16] + '…"}'


@pytest.mark.django_db
@pytest.mark.parametrize("at", range(BODY_BYTES - 12, BODY_BYTES + 2), ids=lambda at: f"at-{at}")
def test_a_mobile_or_an_email_cut_by_the_excerpt_is_masked_before_the_cut(client, at):
    for value in (MOBILE, EMAIL):
        start = b'{"note": "'
        pad = b"x" * (at - len(start))
        body = start + pad + f' {value} ", "more": "{"y" * 5000}"}}'.encode()
        assert django_call(client, "POST", body, {})[0] == 401  # unsigned
        row = RejectedDelivery.objects.latest("id")
        assert len(row.body_excerpt.encode()) <= BODY_BYTES
        assert value[:5] not in row.body_excerpt, (at, row.body_excerpt[-20:])


# --- Floods -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_flood_never_grows_the_table_past_its_cap(settings):
    """The rate limit out of the way: the cap alone holds the table, as seen from outside."""
    settings.REJECTED_DELIVERIES_KEPT = 25
    settings.REJECTED_DELIVERIES_PER_SECOND = settings.REJECTED_DELIVERIES_BURST = 1_000_000
    seen, stop = [], threading.Event()

    def watch():
        try:
            while not stop.is_set():
                seen.append(RejectedDelivery.objects.count())
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(5):
            assert set(asgi_flood(600)) == {400}
            time.sleep(0.3)  # a batch or two lands between the waves
        assert recorder.flush()
    finally:
        stop.set()
        watcher.join()
    newest = list(RejectedDelivery.objects.order_by("-id").values_list("id", flat=True))
    assert len(newest) == 25 and newest[0] - newest[-1] == 24  # the newest 25
    assert newest[0] > 25 * 4, "the flood inserted far more rows than the cap keeps"
    assert max(seen) <= 25 + MAX_QUEUE, max(seen)


@pytest.mark.django_db(transaction=True)
def test_a_flood_is_recorded_at_the_rate_limit_and_every_refusal_is_counted(settings):
    settings.REJECTED_DELIVERIES_PER_SECOND, settings.REJECTED_DELIVERIES_BURST = 5, 10
    started = time.monotonic()
    assert set(asgi_flood(3000)) == {400}

    def counted():
        return sum(RejectedDelivery.objects.values_list("suppressed_before", flat=True)) + rows()

    def rows():
        return RejectedDelivery.objects.count()

    # No flush: when the flood is over, the recorder writes its last refusal by itself.
    deadline = time.monotonic() + 10
    while counted() < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    stored = list(RejectedDelivery.objects.order_by("id").values_list("kind", "suppressed_before"))
    assert len(stored) + sum(n for _kind, n in stored) == 3000, stored
    assert 10 < len(stored) <= 10 + 5 * elapsed + 1, (stored, elapsed)
    assert {kind for kind, _n in stored} == {Kind.BAD_JSON}
    # Refusals past the rate were counted on later rows. Which row carries the flood's tail
    # depends on how fast the machine sent it (a slow flood refills the bucket): not asserted.
    assert any(n > 0 for _kind, n in stored), stored


@pytest.mark.django_db(transaction=True)
def test_refusals_beyond_a_full_queue_are_counted(settings):
    settings.REJECTED_DELIVERIES_PER_SECOND = settings.REJECTED_DELIVERIES_BURST = 1_000_000
    assert set(asgi_flood(3000)) == {400}
    assert recorder.flush()
    rows = RejectedDelivery.objects.count()
    dropped = sum(RejectedDelivery.objects.values_list("suppressed_before", flat=True))
    assert rows + dropped == 3000 and dropped > 0


# --- Failures of the recorder never change the answer -----------------------------------------


@pytest.mark.django_db
def test_a_failing_insert_in_the_callers_transaction_changes_nothing(client):
    table = RejectedDelivery._meta.db_table
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    body, headers = signed(eco_account_event(token="forged"))
    assert django_call(client, "POST", body, headers) == (403, "verification token does not match")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert django_call(client, "POST", b"{not json", {}) == (400, "body is not valid JSON")
    [row] = RejectedDelivery.objects.all()
    assert row.kind == Kind.BAD_JSON and row.suppressed_before == 1  # the one not stored


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_changes_no_answer_and_loses_no_count(monkeypatch):
    db = connections["default"].settings_dict
    with monkeypatch.context() as m:  # the recorder's next connection goes nowhere
        m.setitem(db, "HOST", "127.0.0.1")
        m.setitem(db, "PORT", "9")
        m.setitem(db, "NAME", "/nonexistent/db.sqlite3")
        for _ in range(3):
            assert asgi_call("POST", *signed(eco_account_event(token="forged"))) == (
                403,
                "verification token does not match",
            )
        assert recorder.flush()
    assert not RejectedDelivery.objects.exists()
    assert asgi_call("POST", b"", {}) == (400, "empty body")
    assert recorder.flush()
    [row] = RejectedDelivery.objects.all()
    assert row.kind == Kind.EMPTY_BODY and row.suppressed_before == 3


# --- Pruning, admin, roles --------------------------------------------------------------------


def _row(days_old=0, kind=Kind.DECRYPT_FAILED, **fields):
    return RejectedDelivery.objects.create(
        received_at=timezone.now() - timedelta(days=days_old),
        kind=kind,
        reason="body does not decrypt: does not decrypt with the configured key",
        status=400,
        remote_addr="203.0.113.7",
        headers={"user-agent": "Feishu"},
        body_excerpt='{"encrypt": "abc…"}',
        **fields,
    )


@pytest.mark.django_db
def test_prune_deletes_rejected_deliveries_past_their_retention(settings):
    settings.REJECTED_DELIVERIES_RETENTION_DAYS = 30
    old, recent = _row(days_old=31), _row(days_old=29)
    events_prune()
    assert list(RejectedDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk not in RejectedDelivery.objects.values_list("pk", flat=True)


@pytest.mark.django_db
def test_admin_list_and_detail_for_a_permitted_user_only(client, staff_user, django_user_model):
    wrong_key = _row()
    _row(kind=Kind.TOKEN_MISMATCH, suppressed_before=7)
    list_url = "/admin/events/rejecteddelivery/"
    detail_url = f"{list_url}{wrong_key.pk}/change/"

    client.force_login(staff_user("Auditor"))
    listed = client.get(list_url + "?kind__exact=decrypt_failed")
    assert [row.pk for row in listed.context["cl"].result_list] == [wrong_key.pk]
    assert "Does not decrypt" in listed.content.decode()
    detail = client.get(detail_url)
    assert detail.status_code == 200
    assert (
        "differs from the one on the Feishu app&#x27;s Events and Callbacks page" in detail.content.decode()
    )
    assert client.get(f"{list_url}add/").status_code == 403
    assert client.get(f"{list_url}{wrong_key.pk}/delete/").status_code == 403
    assert client.post(detail_url, {"reason": "edited"}).status_code == 403

    for role in ("HR", "Vendor operations"):
        client.force_login(staff_user(role))
        assert client.get(list_url).status_code == 403 and client.get(detail_url).status_code == 403

    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    assert client.get(f"{list_url}{wrong_key.pk}/delete/").status_code == 200
    assert client.get(f"{list_url}add/").status_code == 403


@pytest.mark.django_db
def test_auditors_read_the_log_and_the_other_roles_do_not(staff_user):
    """Refused bodies cannot be told apart by app (they are not verified), so unlike the event
    log they are not shown by role: auditors (and superusers) only."""
    perm = "events.view_rejecteddelivery"
    assert staff_user("Auditor").has_perm(perm)
    for role in roles.STAFF_ROLES:
        assert not staff_user(role).has_perm(perm), role


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trusted", [0, 1, 2])
def test_a_refusal_records_the_senders_address_behind_the_proxies_the_operator_declared(
    settings, client, trusted
):
    """Both transports read X-Forwarded-For ("198.51.100.4, 10.0.0.1") only as far as
    TRUSTED_PROXY_COUNT says, like the sign-in's lockouts: 0 the connection's address, 1 the
    entry the proxy wrote, 2 the one before it."""
    settings.TRUSTED_PROXY_COUNT = trusted
    django_call(client, "POST", b"{not json", {})
    asgi_call("POST", b"{not json", {})
    assert recorder.flush()
    expected = {0: ("127.0.0.1", PEER[0]), 1: ("10.0.0.1",) * 2, 2: ("198.51.100.4",) * 2}[trusted]
    assert tuple(RejectedDelivery.objects.order_by("pk").values_list("remote_addr", flat=True)) == expected
