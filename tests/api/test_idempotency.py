"""Idempotency-Key on writes (IETF httpapi draft, Stripe): the same key and request answer the
first answer again and do nothing more; another request with the key is 422; a key whose first
request still runs is 409; a first request whose process died runs again, once. Tried on
POST /api/v1/customers (any write goes through the same middleware)."""

import concurrent.futures
import datetime as dt
import json
import time

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from bindings.models import VendorCustomer
from hireops.api import idempotency, kept
from hireops.api.models import ApiKey, IdempotentRequest

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


def post(client, key, body, idem=None, raw=None):
    headers = bearer(key) | ({"HTTP_IDEMPOTENCY_KEY": idem} if idem is not None else {})
    return client.post(
        URL, raw if raw is not None else json.dumps(body), content_type="application/json", **headers
    )


def test_the_same_key_and_request_answer_the_first_answer_and_do_nothing_more(client):
    key = make_key("customers:write")
    first = post(client, key, {"name": "ACME", "contact": "ops"}, idem="k-1")
    assert first.status_code == 201, first.content
    again = post(client, key, None, idem="k-1", raw='{"contact": "ops",  "name": "ACME"}')  # key order aside
    assert again.status_code == 201 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert VendorCustomer.objects.count() == 1


def test_the_same_key_with_another_request_is_422_and_changes_nothing(client):
    key = make_key("customers:write")
    assert post(client, key, {"name": "ACME"}, idem="k-2").status_code == 201
    other = post(client, key, {"name": "Globex"}, idem="k-2")
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    assert list(VendorCustomer.objects.values_list("name", flat=True)) == ["ACME"]


def test_a_refusal_is_kept_too_and_a_write_without_a_key_runs_each_time(client):
    key = make_key("customers:write")
    refused = post(client, key, {"name": ""}, idem="k-3")
    assert refused.status_code == 422
    assert post(client, key, {"name": ""}, idem="k-3").content == refused.content
    assert VendorCustomer.objects.count() == 0
    post(client, key, {"name": "ACME"})
    post(client, key, {"name": "ACME"})
    assert VendorCustomer.objects.count() == 2


def test_keys_belong_to_one_api_key(client):
    one, other = make_key("customers:write"), make_key("customers:write")
    post(client, one, {"name": "ACME"}, idem="shared")
    assert "Idempotent-Replayed" not in post(client, other, {"name": "ACME"}, idem="shared")
    assert VendorCustomer.objects.count() == 2


def test_a_bad_key_header_is_400(client):
    key = make_key("customers:write")
    for bad in ("", "x" * 256, "tab\there"):
        answer = post(client, key, {"name": "ACME"}, idem=bad)
        assert answer.status_code == 400 and answer.json()["type"].endswith("invalid-idempotency-key")
    assert VendorCustomer.objects.count() == 0


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_while_the_first_request_runs_the_key_is_409_and_if_it_died_the_retry_runs_once(client, admin_server):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks and a backend to terminate: PostgreSQL")
    key = make_key("customers:write")
    body = {"name": "ACME"}
    with psycopg.connect(_database_url()) as other:
        # The first request is sent to the server as production runs it and stopped inside
        # its write: no customer can be inserted while this lock is held.
        other.execute("LOCK TABLE bindings_vendorcustomer IN SHARE MODE")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            first = pool.submit(
                requests.post,
                f"{admin_server}{URL}",
                json=body,
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k-4"},
                timeout=30,
            )
            writer = _waiting_insert()
            with connection.cursor() as cursor:  # were the key not held, this request would wait
                cursor.execute("SET lock_timeout = '10s'")
            try:
                busy = post(client, key, body, idem="k-4")
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("RESET lock_timeout")
            assert busy.status_code == 409 and busy.json()["type"].endswith("idempotency-key-in-use")
            # ... and its process dies: its transaction, its lock and its write go with it.
            other.execute("SELECT pg_terminate_backend(%s)", [writer])
            assert first.result().status_code == 500
        other.rollback()
    assert VendorCustomer.objects.count() == 0
    retried = post(client, key, body, idem="k-4")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert post(client, key, body, idem="k-4")["Idempotent-Replayed"] == "true"
    assert VendorCustomer.objects.count() == 1


def _waiting_insert() -> int:
    """The pid of the backend waiting to insert a customer (the first request's; a worker's
    first request loads much of Django, seconds on a busy machine). Read outside a
    transaction: inside one, pg_stat_activity keeps its first answer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with psycopg.connect(_database_url(), autocommit=True) as conn:
            found = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE 'INSERT INTO \"bindings_vendorcustomer\"%%'"
            ).fetchone()
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError("the first request never reached its write")


@pytest.mark.django_db(transaction=True)
def test_a_key_left_unanswered_by_an_earlier_version_runs_its_write_once(client):
    """Before the kept answer moved into the write's transaction, the key's row was committed
    first: a process that died left it without an answer."""
    key = make_key("customers:write")
    body = {"name": "ACME"}
    request = RequestFactory().post(URL, json.dumps(body), content_type="application/json")
    row = IdempotentRequest.objects.create(
        api_key=ApiKey.objects.get(prefix=key[:12]), key="k-6", fingerprint=idempotency.fingerprint(request)
    )
    assert post(client, key, body, idem="k-6").status_code == 201
    assert post(client, key, body, idem="k-6")["Idempotent-Replayed"] == "true"
    row.refresh_from_db()
    assert row.status_code == 201 and VendorCustomer.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_answer_kept_meanwhile_by_another_request_undoes_this_write(rf):
    """A request that does not take the key's lock (a process of the earlier version, during
    a rolling deploy) keeps an answer while this one writes: this write is rolled back and
    the kept answer is given, so the write happened once."""
    if connection.vendor != "postgresql":
        pytest.skip("a second connection committing mid-request: PostgreSQL")
    key = make_key("customers:write")
    api_key = ApiKey.objects.get(prefix=key[:12])
    request = rf.post(URL, json.dumps({"name": "ACME"}), content_type="application/json")
    request.META["HTTP_IDEMPOTENCY_KEY"] = "k-7"

    def the_write(_request):
        VendorCustomer.objects.create(name="written twice")
        with psycopg.connect(_database_url(), autocommit=True) as other:
            other.execute(
                "INSERT INTO api_idempotentrequest (api_key_id, key, fingerprint, status_code, content_type,"
                " body, created_at) VALUES (%s, 'k-7', %s, 201, 'text/plain', 'the first', now())",
                [api_key.pk, idempotency.fingerprint(request)],
            )
        return HttpResponse("the second", status=201)

    answer = idempotency.handle(request, api_key, the_write)
    assert answer.content == b"the first" and answer["Idempotent-Replayed"] == "true"
    assert VendorCustomer.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_write_once(admin_server):
    key = make_key("customers:write")
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k-5"}

    def send(_):
        answer = requests.post(f"{admin_server}{URL}", json={"name": "ACME"}, headers=headers, timeout=20)
        return answer.status_code, answer.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    assert VendorCustomer.objects.count() == 1
    created = {text for status, text in answers if status == 201}
    assert len(created) == 1, answers  # every 201 is the same answer
    assert {status for status, _ in answers} <= {201, 409}, answers


@pytest.mark.django_db(transaction=True)
def test_answers_are_forgotten_after_their_time_by_a_real_worker(client, celery_worker):
    from hireops.api.tasks import forget_idempotency_keys

    key = make_key("customers:write")
    post(client, key, {"name": "ACME"}, idem="old")
    post(client, key, {"name": "Globex"}, idem="new")
    IdempotentRequest.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS, minutes=1)
    )
    forget_idempotency_keys.delay()
    celery_worker(lambda: not IdempotentRequest.objects.filter(key="old").exists(), what="old key forgotten")
    assert IdempotentRequest.objects.filter(key="new").exists()


@pytest.mark.django_db(transaction=True)
def test_a_kept_answer_is_replayed_while_another_request_holds_the_key(client):
    """A kept answer is final: a retry sent while another retry of the same key runs gets it
    too, rather than 409; a request that differs is still 422, and a key held with no answer
    kept is still 409."""
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks: PostgreSQL")
    key = make_key("customers:write")
    api_key = ApiKey.objects.get(prefix=key[:12])
    first = post(client, key, {"name": "ACME"}, idem="k-8")
    with psycopg.connect(_database_url()) as other:
        for held in ("k-8", "k-10"):
            other.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [kept.LOCKS, f"{api_key.pk}:{held}"]
            )
        again = post(client, key, {"name": "ACME"}, idem="k-8")
        assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        assert post(client, key, {"name": "Globex"}, idem="k-8").status_code == 422
        assert post(client, key, {"name": "Globex"}, idem="k-10").status_code == 409
    assert list(VendorCustomer.objects.values_list("name", flat=True)) == ["ACME"]


@pytest.mark.django_db(transaction=True)
def test_a_keys_lock_is_its_own_and_in_a_space_of_its_own():
    """The lock of one key held, the same key elsewhere is refused and another key is not; its
    first key sets it apart from every other advisory lock (a partner choosing its keys cannot
    take, or wait on, a lock something else uses)."""
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks: PostgreSQL")
    with transaction.atomic():
        assert kept.hold_and_read(7, "order-1") == (True, None)
        with psycopg.connect(_database_url()) as other:

            def held_elsewhere(api_key_id, key):
                return not other.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [kept.LOCKS, f"{api_key_id}:{key}"]
                ).fetchone()[0]

            assert held_elsewhere(7, "order-1")
            assert not held_elsewhere(7, "order-2") and not held_elsewhere(8, "order-1")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), hashtext('7:order-1')")
                ours, objid = cursor.fetchone()
            locks = other.execute(
                "SELECT classid::bigint, objid::bigint FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = %s",
                [ours],
            ).fetchall()
            assert locks == [(kept.LOCKS, objid & 0xFFFFFFFF)]
