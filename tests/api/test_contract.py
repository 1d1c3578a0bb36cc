"""The contract: the served OpenAPI document is the reviewed snapshot in docs/openapi.json, so
every change to the API is a diff someone reads (regenerate with `manage.py api_schema`); and
what a partner's programmer or generator reads in it holds for every operation: its server and
relative paths, operation ids a client's methods are named after, `Idempotency-Key` on every
write, the headers each answer carries."""

import json
import re
from pathlib import Path

import pytest

from hireops.api import idempotency
from hireops.api.document import IDEMPOTENCY_KEY
from hireops.api.scopes import all_scopes
from hireops.api.site import SCOPE_FIELD
from tests.api.document import served_document

from .keys import bearer, make_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_document_is_the_reviewed_snapshot(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    snapshot = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served.json() == snapshot, (
        "The API's contract changed: review the difference, then run `manage.py api_schema` and "
        "commit docs/openapi.json with the change."
    )


def test_the_document_is_openapi_3_1_and_names_the_version(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1.") and doc["info"]["version"] == "1"
    assert doc["components"]["securitySchemes"]["ApiKey"] == {"type": "http", "scheme": "bearer"}


# --- what a generated client reads ----------------------------------------------------------------

DOC = served_document()  # as served
BASE = DOC["servers"][0]["url"]
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]
IDS = [f"{m} {p}" for m, p, _ in OPERATIONS]
# What an operation id starts with: what it does. A new verb joins only if none of these says it.
VERBS = {
    "list",  # a page of rows (next_cursor)
    "get",  # one object, or one document
    "create",
    "update",  # PATCH: some fields
    "replace",  # PUT: the whole
    "delete",
    "send",  # queue something to reach Feishu or a partner
    "resend",
    "rotate",
    "terminate",
    "receive",  # a webhook: what the partner's receiver does
}
OPERATION_ID = re.compile(r"^(?P<verb>[a-z]+)(?:[A-Z][a-z0-9]*)+$")


def every_operation_id() -> list[str]:
    hooks = [op for item in DOC.get("webhooks", {}).values() for op in item.values()]
    return [op.get("operationId") for _m, _p, op in OPERATIONS] + [op.get("operationId") for op in hooks]


def test_one_relative_server_and_every_path_relative_to_it(client):
    assert DOC["servers"] == [{"url": "/api/v1", "description": "this host"}]
    for path in DOC["paths"]:
        assert path.startswith("/") and not path.startswith(BASE + "/"), path
    # The paths under the server are where the operations answer.
    assert client.get(BASE + "/key").status_code == 401


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
def test_every_operation_id_is_verb_noun_lower_camel_case(method, path, op):
    found = OPERATION_ID.match(op.get("operationId") or "")
    assert found, f"{method} {path}: operationId {op.get('operationId')!r} is not lowerCamelCase verb-noun"
    assert found["verb"] in VERBS, f"{op['operationId']}: start with one of {sorted(VERBS)}"
    # A list answers a page; a page comes from a list.
    page = {"data", "next_cursor"} <= set(_answer_schema(op).get("properties", {}))
    assert (found["verb"] == "list") == (method == "GET" and page), op["operationId"]


def test_operation_ids_are_unique_and_the_webhooks_follow_the_form():
    ids = every_operation_id()
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for hook, item in DOC["webhooks"].items():
        found = OPERATION_ID.match(item["post"]["operationId"])
        assert found and found["verb"] == "receive", hook


def _answer_schema(op) -> dict:
    ok = next(code for code in op["responses"] if code.startswith("2"))
    ref = op["responses"][ok].get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return DOC["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})


# --- headers ----------------------------------------------------------------------------------------

HEADERS = DOC["components"]["headers"]


def declared_headers(op, status: int) -> dict:
    answer = op["responses"][str(status)]
    return {name: HEADERS[ref["$ref"].rsplit("/", 1)[-1]] for name, ref in answer.get("headers", {}).items()}


def assert_sends_what_it_declares(op, answer) -> None:
    """Every header the document declares for this answer's status is there when required, and
    matches its schema's pattern when sent."""
    for name, header in declared_headers(op, answer.status_code).items():
        if name not in answer:
            assert not header["required"], f"{answer.status_code} lacks {name}"
            continue
        schema = header["schema"]
        if "pattern" in schema:
            assert re.search(schema["pattern"], answer[name]), (name, answer[name])
        if schema.get("type") == "integer":
            assert answer[name].isdigit(), (name, answer[name])
        if "const" in schema:
            assert answer[name] == schema["const"], (name, answer[name])


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
def test_every_write_declares_idempotency_key(method, path, op):
    refs = [p.get("$ref") for p in op.get("parameters", [])]
    writes = method in idempotency.WRITES
    assert (IDEMPOTENCY_KEY in refs) == writes, f"{method} {path}"
    parameter = DOC["components"]["parameters"]["IdempotencyKey"]
    assert (
        parameter["name"] == "Idempotency-Key" and parameter["in"] == "header" and not parameter["required"]
    )


def test_the_idempotency_key_schema_is_what_the_middleware_takes():
    """Character by character (a header carries Latin-1), the declared pattern accepts exactly
    what idempotency.handle accepts; and the lengths are its lengths."""
    schema = DOC["components"]["parameters"]["IdempotencyKey"]["schema"]
    assert (schema["minLength"], schema["maxLength"]) == (1, idempotency.MAX_LENGTH)
    for code in range(256):
        char = chr(code)
        assert bool(re.fullmatch(schema["pattern"], char * 3)) == (char * 3).isprintable(), hex(code)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=IDS)
@pytest.mark.django_db
def test_every_answer_carries_the_headers_declared_for_it(client, settings, method, path, op):
    """Without a key (401), with a key lacking the scope (403, and its replay for a write sent
    with an Idempotency-Key), past the rate limit (429): each answer as the document says."""
    url = BASE + re.sub(r"\{\w+\}", "1", path)
    none = client.generic(method, url)
    assert none.status_code == 401
    assert "RateLimit" not in none
    assert_sends_what_it_declares(op, none)

    scope = op.get(SCOPE_FIELD)
    others = [name for name in all_scopes() if name != scope]
    key = make_key(*others)
    sent = {"HTTP_IDEMPOTENCY_KEY": f"contract-{method}-{path}"} if method in idempotency.WRITES else {}
    first = client.generic(method, url, **bearer(key), **sent)
    assert first.status_code == (403 if scope else 200), first.content[:300]
    assert_sends_what_it_declares(op, first)
    if sent:
        replay = client.generic(method, url, **bearer(key), **sent)
        assert replay.status_code == first.status_code and replay["Idempotent-Replayed"] == "true"
        assert_sends_what_it_declares(op, replay)
    else:
        assert "Idempotent-Replayed" not in declared_headers(op, first.status_code)

    settings.API_RATE_LIMIT = 0
    limited = client.generic(method, url, **bearer(key))
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert_sends_what_it_declares(op, limited)


def test_the_description_links_to_pages_served_without_a_key(client):
    links = re.findall(r"\]\(([^)]+)\)", DOC["info"]["description"])
    assert {BASE + "/guide", BASE + "/openapi.json", BASE + "/docs"} <= set(links)
    for link in links:
        assert client.get(link).status_code == 200, link
