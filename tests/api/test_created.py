"""Every 201 of the document, enumerated: it carries ``Location``, the new object's URL under
/api/v1/, where a GET (with the same key) answers the same object; and a replay of the write
(the same ``Idempotency-Key``) carries it too."""

import json
import re

import pytest
import requests

from hireops.api.document import RESPONSE_HEADERS
from hireops.core.auth import roles
from tests.api.document import served_document
from tests.second_factor import give_totp

from .keys import bearer, make_key
from .test_referrals import reward_body

pytestmark = pytest.mark.django_db

DOC = served_document()
BASE = DOC["servers"][0]["url"]
CREATED = [
    (method.upper(), path, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if "201" in op.get("responses", {})
]


def _customer(request):
    return make_key("customers:write", "customers:read"), {
        "name": "ACME",
        "identifiers": [{"key": "org_id", "value": "A-1"}],
    }


def _webhook_endpoint(request):
    return make_key("webhooks:manage", "orders:read"), {
        "url": "http://127.0.0.1:9/hooks",
        "description": "case platform",
        "scopes": ["orders:read"],
    }


def _reward(request):
    hr = request.getfixturevalue("staff_user")(roles.HR, username="hr")
    give_totp(hr)  # a person behind the key, as moving money needs
    referrer = request.getfixturevalue("sandbox").add_employee(name="李雷", email="lilei@example.com")[
        "user_id"
    ]
    key = make_key("rewards:write", "referrals:read", by=hr)
    return key, reward_body(referrer)


# Each 201 of the document: a valid request (key, body), and the answer's fields that may move
# between the 201 and the GET (what a worker does after the answer: a reward is sent to Feishu).
CREATES = {
    "POST /customers": (_customer, set()),
    "POST /webhook-endpoints": (_webhook_endpoint, set()),
    "POST /referral-rewards": (
        _reward,
        {"status", "feishu_reward_id", "log_id", "finished_at", "updated_at"},
    ),
}


def test_every_201_is_enumerated_here():
    assert {f"{m} {p}" for m, p, _op in CREATED} == set(CREATES), "add the new 201 to CREATES"
    assert len(CREATED) >= 3


@pytest.mark.parametrize(("method", "path", "op"), CREATED, ids=[f"{m} {p}" for m, p, _ in CREATED])
def test_a_201_carries_location_where_a_get_answers_the_same_object(client, request, method, path, op):
    assert op["responses"]["201"]["headers"]["Location"] == {"$ref": "#/components/headers/Location"}
    assert RESPONSE_HEADERS["Location"]["required"]
    build, moves = CREATES[f"{method} {path}"]
    key, body = build(request)
    sent = {**bearer(key), "HTTP_IDEMPOTENCY_KEY": f"created-{path}"}

    made = client.generic(method, BASE + path, json.dumps(body), content_type="application/json", **sent)
    assert made.status_code == 201, made.content[:300]
    location = made["Location"]
    assert re.fullmatch(rf"{re.escape(BASE)}/[\w./-]+", location), location
    # The document's link says which operation reads it: the one answering on that path.
    link = op["responses"]["201"]["links"]["read"]
    read_path = next(
        p
        for p, item in DOC["paths"].items()
        for o in item.values()
        if o["operationId"] == link["operationId"]
    )
    assert re.fullmatch(re.escape(BASE) + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(read_path)), location)

    created = made.json()
    shown = client.get(location, **bearer(key))
    assert shown.status_code == 200, shown.content[:300]
    read = shown.json()
    assert read["id"] == created["id"]
    same = set(read) & set(created) - moves
    assert same and {f: read[f] for f in same} == {f: created[f] for f in same}

    # The same write again: the first answer, Location included, and nothing more.
    again = client.generic(method, BASE + path, json.dumps(body), content_type="application/json", **sent)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again["Location"] == location and again.json() == created


def test_a_reused_key_on_a_method_or_path_the_api_lacks_is_405_or_404_not_422(client):
    """A request no operation takes is not the key's business: it answers what any would."""
    key = make_key("customers:write", "customers:read")
    sent = {**bearer(key), "HTTP_IDEMPOTENCY_KEY": "used-once"}
    first = client.post(f"{BASE}/customers", {"name": "ACME"}, content_type="application/json", **sent)
    assert first.status_code == 201
    assert client.put(f"{BASE}/customers", "{}", content_type="application/json", **sent).status_code == 405
    assert (
        client.post(f"{BASE}/no-such-thing", "{}", content_type="application/json", **sent).status_code == 404
    )
    assert client.patch(f"{BASE}/customers", "{}", content_type="application/json", **sent).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_fresh_servers_first_request_a_write_is_kept_and_located(admin_server):
    """The middleware meets a process's first request before Django has routed any: the
    operations it knows of must be there all the same (a write with a key kept once, its 201
    located), under gunicorn as production runs it."""
    headers = {
        "Authorization": f"Bearer {make_key('customers:write', 'customers:read')}",
        "Idempotency-Key": "first-request",
    }
    first = requests.post(
        f"{admin_server}{BASE}/customers", json={"name": "ACME"}, headers=headers, timeout=10
    )
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == f"{BASE}/customers/{first.json()['id']}"
    again = requests.post(
        f"{admin_server}{BASE}/customers", json={"name": "ACME"}, headers=headers, timeout=10
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
