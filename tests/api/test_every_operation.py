"""Every operation in the document, enumerated (a new one is covered without its own test):
no key, a wrong, revoked or expired key is 401 with the bearer challenge; a key without the
operation's scope is 403 naming it; another tenant's object is 404, exactly as a missing one;
a list never shows a key limited to tenants another tenant's row. Each operation documents a
summary, a typed answer and its problems."""

import datetime as dt
import functools
import importlib
import inspect
import json
import pkgutil
import re
from urllib.parse import urlencode

import pytest
from django.utils import timezone

import tests.api
from hireops.api import keys
from hireops.api.models import ApiKey
from hireops.api.scopes import all_scopes
from hireops.api.site import SCOPE_FIELD
from tests.api.document import served_document
from tests.second_factor import give_totp

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db

DOC = served_document()  # as served
BASE = DOC["servers"][0]["url"]  # the paths are relative to it
OPERATIONS = [
    (method.upper(), BASE + path, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]
IDS = [f"{m} {p}" for m, p, _ in OPERATIONS]
PARAM = re.compile(r"\{(\w+)\}")
TENANT_A, TENANT_B = "tenant-a", "tenant-b"
OPEN_TO_EVERY_KEY = {"/api/v1/key", "/api/v1/events", "/api/v1/event-types"}


def examples() -> dict:
    """Each test module's EXAMPLES: an operation path with a parameter -> (tenant_key, key=)
    -> id. ``key`` (an ApiKey row) is the key that should reach the object: a builder of
    something a key owns (a webhook endpoint) makes it as that key; the others ignore it."""
    found = {}
    for info in pkgutil.iter_modules(tests.api.__path__):
        module = importlib.import_module(f"tests.api.{info.name}")
        for path, build in getattr(module, "EXAMPLES", {}).items():
            if "key" not in inspect.signature(build).parameters:
                build = functools.partial(lambda b, tenant_key, key=None: b(tenant_key), build)
            found[path if path.startswith("/api/v1/") else "/api/v1" + path] = build
    return found


def bodies() -> dict:
    found = {}
    for info in pkgutil.iter_modules(tests.api.__path__):
        module = importlib.import_module(f"tests.api.{info.name}")
        for operation, body in getattr(module, "BODIES", {}).items():
            method, path = operation.split(" ", 1)
            found[f"{method} {path if path.startswith('/api/v1/') else '/api/v1' + path}"] = body
    return found


def call(client, method, url, headers, body=None):
    """``body``: a JSON value, or a BODIES entry (a callable answering ("json" | "multipart", data))."""
    if callable(body):
        kind, data = body()
        if kind == "multipart":
            return client.post(url, data, **headers)
        if kind == "query":
            return client.generic(method, f"{url}?{urlencode(data)}", "", **headers)
        body = data
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, content_type="application/json", **headers)


def url_of(path: str, value: str = "1") -> str:
    return PARAM.sub(value, path)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
def test_no_key_or_a_dead_key_is_401(client, method, path, op):
    good = make_key(*all_scopes())
    revoked = make_key(*all_scopes())
    keys.revoke(revoked[:12])
    expired = make_key(*all_scopes(), days=1)
    ApiKey.objects.filter(prefix=expired[:12]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    for headers in (
        {},
        bearer(good[:-1] + ("y" if good.endswith("x") else "x")),  # one character wrong
        bearer(revoked),
        bearer(expired),
        {"HTTP_AUTHORIZATION": "Basic eDp5"},
    ):
        answer = call(client, method, url_of(path), headers)
        assert answer.status_code == 401, (headers, answer.content[:300])
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert answer["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
def test_a_key_without_the_scope_is_403_naming_it(client, method, path, op):
    scope = op.get(SCOPE_FIELD)
    if scope is None:
        # What every key may ask: itself, and the events and types its own scopes hear.
        assert path in OPEN_TO_EVERY_KEY, f"{method} {path} declares no scope"
        return
    others = [name for name in all_scopes() if name != scope]
    key = make_key(*others) if others else make_key(scope)
    if not others:
        ApiKey.objects.filter(prefix=key[:12]).update(scopes=["none"])
    answer = call(client, method, url_of(path), bearer(key), body={})
    assert answer.status_code == 403, answer.content[:300]
    assert answer["Content-Type"] == "application/problem+json"
    assert scope in answer.json()["detail"]


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
def test_another_tenants_object_is_404_and_never_listed(client, method, path, op, admin_user):
    found, sent = examples(), bodies()
    everything = all_scopes()
    give_totp(admin_user)  # a person behind the keys: the operations that move money ask for one
    theirs = make_key(*everything, tenants=[TENANT_B], by=admin_user)
    ours = make_key(*everything, tenants=[TENANT_A], by=admin_user)
    if not PARAM.search(path):
        if method == "GET" and "data" in json.dumps(op["responses"].get("200", {})):
            for build in found.values():  # rows of tenant A in every table
                build(TENANT_A)
            answer = call(client, method, path, bearer(theirs))
            assert answer.status_code == 200, answer.content[:300]
            assert TENANT_A not in json.dumps(answer.json()["data"])
        return
    assert path in found, f"add an EXAMPLES entry for {path} to the module testing it"
    operation = f"{method} {path}"
    writes = method != "GET"
    assert not writes or operation in sent, f"add a BODIES entry (a valid request) for {operation}"
    object_id = found[path](TENANT_A, key=ApiKey.objects.get(prefix=ours[:12]))
    url, body = url_of(path, object_id), sent.get(operation)
    hidden = call(client, method, url, bearer(theirs), body=body)
    missing = call(client, method, url_of(path, object_id + "0404"), bearer(ours), body=body)
    assert hidden.status_code == 404, hidden.content[:300]
    assert missing.status_code == 404 and hidden.json() == missing.json()
    # The same request with a key of the object's tenant reaches it (a refusal of its state or
    # of the key's reach may follow; never "no such object").
    mine = call(client, method, url, bearer(ours), body=body)
    assert mine.status_code != 404 and mine.status_code < 500, mine.content[:300]


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
def test_every_operation_documents_itself(method, path, op):
    assert op.get("summary"), "a summary"
    answers = op["responses"]
    ok = [code for code in answers if code.startswith("2")]
    assert ok, "a success answer"
    for code in ok:
        if code != "204":
            schema = answers[code]["content"]["application/json"]["schema"]
            assert "$ref" in json.dumps(schema), f"{code} answers a typed model"
    for code in ("401", "429") + (("403",) if op.get(SCOPE_FIELD) else ()):
        assert code in answers and "application/problem+json" in answers[code]["content"], code
