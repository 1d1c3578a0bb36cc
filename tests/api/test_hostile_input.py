"""What a hostile or clumsy client sends, to every operation of the OpenAPI document: JSON
nested thousands deep, bodies that are no JSON object, not UTF-8, of another media type, too
large, with a name twice or NaN, 1e400 and 2**70 where numbers go, every field given what its
type cannot hold, ids no row can have, query parameters sent twice. Every answer is a 4xx
``application/problem+json`` the operation documents, and nothing in the database changes.

Operations are enumerated from the document (a new one is covered without a test of its own);
each write that takes a body starts from a valid request (BODIES, here and in the modules that
test each app), so a refusal is the hostile part's. The production server's own refusals (a
request line or header section too large, a body over Django's limit) are checked on gunicorn as
the Procfile runs it, at the end.
"""

import datetime as dt
import json
import re
import runpy
import socket
from email.message import EmailMessage
from urllib.parse import quote

import pytest
import requests
from django.apps import apps
from django.conf import settings as django_settings
from django.test.client import encode_multipart

from hireops.api.models import ApiKey, IdempotentRequest
from hireops.api.pagination import CURSOR_MAX_LENGTH, encode_cursor
from hireops.api.problems import problem
from hireops.api.reading import MAX_DEPTH
from hireops.api.scopes import all_scopes
from hireops.api.web_worker import STATUSES
from tests.conftest import ROOT
from tests.second_factor import give_totp
from tests.table_fingerprints import fingerprints

from .keys import bearer, make_key
from .test_every_operation import DOC, OPERATIONS, PARAM, bodies, examples

pytestmark = pytest.mark.django_db

SCHEMAS = DOC["components"]["schemas"]


def parameters(op: dict) -> list[dict]:
    """The operation's parameters, shared ones (Idempotency-Key) read from the components."""
    shared = DOC["components"].get("parameters", {})
    return [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in op.get("parameters", [])]


PROBLEM = "application/problem+json"
# A valid request of each write that takes a body and has no object in its path (the others'
# are in the modules testing their apps: tests/api/test_every_operation.py collects them all).
BODIES = {
    "POST /customers": lambda: (
        "json",
        {"name": "ACME 有限公司", "identifiers": [{"key": "org_id", "value": "A-1"}]},
    ),
    "PUT /catalogue/packages": lambda: (
        "json",
        {"packages": [{"id": "pkg-basic", "name": "基础套餐", "turnaround_days": 5}], "additional_items": []},
    ),
    "PUT /catalogue/exam-papers": lambda: (
        "json",
        {"papers": [{"id": "paper-1", "name": "笔试", "question_count": 20}]},
    ),
    "POST /referral-rewards": lambda: (
        "json",
        {
            "external_id": "hris-1",
            "employee_id": "ou_referrer",
            "rule_type": "onboard",
            "stage": "paid",
            "points": 100,
            "reason": "推荐入职",
        },
    ),
    "POST /webhook-endpoints": lambda: (
        "json",
        {"url": "http://127.0.0.1:9/hooks", "scopes": ["orders:read"]},
    ),
}
WRITES = [(m, p, op) for m, p, op in OPERATIONS if m != "GET"]
# An operation taking its fields as JSON or as a form (an order's write) is tried both ways.
WITH_BODY = [
    (m, p, {**op, "x-media": media} if len(op["requestBody"]["content"]) > 1 else op)
    for m, p, op in WRITES
    if "requestBody" in op
    for media in op["requestBody"]["content"]
]
WITH_PATH = [(m, p, op) for m, p, op in OPERATIONS if PARAM.search(p)]
WITH_QUERY = [(m, p, op) for m, p, op in OPERATIONS if any(q["in"] == "query" for q in parameters(op))]


def ids(operations):
    return [f"{m} {p}" + (f" ({op['x-media']})" if "x-media" in op else "") for m, p, op in operations]


def deref(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def variants(schema: dict) -> list[dict]:
    """The schemas a value may match (an ``anyOf`` opened; null left out)."""
    schema = deref(schema)
    if "anyOf" in schema:
        return [v for branch in schema["anyOf"] for v in variants(branch) if v.get("type") != "null"]
    return [schema]


def body_media(op) -> str:
    if "x-media" in op:
        return op["x-media"]
    (media,) = op["requestBody"]["content"]
    return media


def body_schema(op) -> dict:
    return deref(op["requestBody"]["content"][body_media(op)]["schema"])


# --- what the document promises -----------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=ids(OPERATIONS))
def test_every_operation_documents_what_the_server_refuses(method, path, op):
    """414 and 431 (gunicorn), and for a write 413 and 415, are problems the document names."""
    answers = op["responses"]
    expected = ["400", "414", "431"] + (["413", "415"] if method != "GET" else [])
    for status in expected:
        assert PROBLEM in answers.get(status, {}).get("content", {}), status


@pytest.mark.parametrize(("method", "path", "op"), WITH_BODY, ids=ids(WITH_BODY))
def test_every_json_body_is_an_object_the_reader_reads_whole(method, path, op):
    """The reader refuses a JSON body that is no object, or nests past MAX_DEPTH: no body the
    document describes is either."""

    def deepest(schema: dict) -> int:
        levels = [0]
        for value in variants(schema):
            if value.get("type") == "object":
                levels += [1 + deepest(p) for p in value.get("properties", {}).values()]
                assert value.get("additionalProperties") in (None, False), "a free-form object has no depth"
            if value.get("type") == "array":
                levels.append(1 + deepest(value.get("items", {})))
        return max(levels)

    schema = body_schema(op)
    assert schema.get("type") == "object" and schema.get("properties")
    if body_media(op) == "application/json":
        assert deepest(schema) < MAX_DEPTH


# The longest text of each kind a parameter may take, as a client's URL library writes it
# (percent-encoding what is not unreserved): the widest character a parameter's pattern allows
# counts for each of its characters.
WIDEST = ("\U0010fffd", "中", "é", "%", "a")  # 12, 9, 6, 3 and 1 bytes encoded
MOMENT = "2026-11-25T09:30:00.123456+08:00"


def longest_value(name: str, schema: dict) -> int:
    lengths = []
    for value in variants(schema):
        kind = value.get("type")
        if "enum" in value:
            lengths.append(max(len(quote(str(v), safe="")) for v in value["enum"]))
        elif kind == "integer":
            low = value.get("minimum", -(2**63))
            high = value.get("maximum", value.get("exclusiveMaximum", 2**63) - 1)
            lengths.append(max(len(str(low)), len(str(high))))
        elif kind == "boolean":
            lengths.append(len("false"))
        elif kind == "string" and value.get("format") == "date-time":
            lengths.append(len(quote(MOMENT, safe="")))
        elif kind == "string":
            assert "maxLength" in value, (
                f"{name}: declare its maxLength, or the longest request line is unknown"
            )
            n, pattern = value["maxLength"], value.get("pattern")
            widths = [len(quote(c, safe="")) for c in WIDEST if pattern is None or re.search(pattern, c * n)]
            lengths.append(n * max(widths))
        else:
            raise AssertionError(f"{name}: no longest value for {value}")
    return max(lengths)


def longest_request_line(method: str, path: str, op: dict) -> str:
    """The operation's request line with every path and query parameter at its longest."""
    query = []
    for parameter in parameters(op):
        filler = "x" * longest_value(parameter["name"], parameter["schema"])
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", filler)
        elif parameter["in"] == "query":
            query.append(f"{quote(parameter['name'])}={filler}")
    return f"{method} {path}{'?' + '&'.join(query) if query else ''} HTTP/1.1"


def gunicorn_setting(name: str):
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))[name]


def test_the_server_takes_the_longest_request_line_the_document_allows():
    """gunicorn refuses a request line past ``limit_request_line`` before Django sees it; every
    line the document allows fits (and no setting can go past gunicorn's 8,190)."""
    longest = max((longest_request_line(m, p, op) for m, p, op in OPERATIONS), key=len)
    assert len(longest) <= gunicorn_setting("limit_request_line") <= 8190, longest[:120]
    assert len(longest) > 4094  # gunicorn's default would refuse a legitimate query
    assert gunicorn_setting("worker_class") == "hireops.api.web_worker.WebWorker"


def test_the_longest_cursor_fits_the_documented_bound():
    """A payout run's lines are paged by (tenant key, id): a tenant key of 128 characters, each
    4 bytes in UTF-8, gives the longest cursor."""
    assert len(encode_cursor(["\U0010fffd" * 128, 2**63 - 1])) <= CURSOR_MAX_LENGTH
    assert (
        len(encode_cursor([dt.datetime.max.replace(tzinfo=dt.UTC), "exam", 2**63 - 1])) <= CURSOR_MAX_LENGTH
    )


# --- hostile bodies against every write -------------------------------------------------------


def database() -> dict[str, object]:
    """Every row of every table (many-to-many links included) as a fingerprint per model, but
    the API's own bookkeeping: the answers kept for Idempotency-Key (refusals are kept too) and
    the key's last use."""
    skipped = {ApiKey, IdempotentRequest}
    return fingerprints(
        [
            model
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy and model not in skipped
        ]
    )


def changed(before: dict, after: dict) -> list[str]:
    return [table for table in before if before[table] != after[table]]


@pytest.fixture
def partner(admin_user):
    """The headers of a key with every scope, made by a person who may move money."""
    give_totp(admin_user)
    return bearer(make_key(*all_scopes(), by=admin_user))


def target(method: str, path: str) -> str:
    """The operation's URL on an object of its own (built by the module testing it)."""
    if not PARAM.search(path):
        return path
    return PARAM.sub(examples()[path]("tenant-a"), path)


def valid_body(method: str, path: str):
    operation = f"{method} {path}"
    found = bodies()
    assert operation in found, f"add a BODIES entry (a valid request) for {operation}"
    return found[operation]()


def send(client, method, url, headers, content_type, data: bytes, idempotency_key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    return client.generic(method, url, data, content_type=content_type, **headers, **extra)


def multipart(fields: dict) -> tuple[str, bytes]:
    boundary = "hostile-boundary"
    for value in fields.values():
        if hasattr(value, "seek"):
            value.seek(0)  # a file of the valid request, sent again whole
    return f"multipart/form-data; boundary={boundary}", encode_multipart(boundary, fields)


def hostile_bodies(media: str, valid: dict, *, either: bool = False) -> dict[str, tuple[str, bytes]]:
    """Name -> (Content-Type, body): what no operation taking ``media`` may accept (``either``:
    one taking its fields as JSON or as a form, for which the other media type is no refusal)."""
    if media == "application/json":
        valid = {key: value for key, value in valid.items() if not hasattr(value, "seek")}  # no file in JSON
    first = next(iter(valid), "name")
    too_large = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    found = {
        "an empty body": ("application/json", b""),
        "a body over DATA_UPLOAD_MAX_MEMORY_SIZE": (
            "application/json",
            json.dumps({first: "x" * too_large}).encode(),
        ),
        "plain text": ("text/plain", b"hello"),
        "no Content-Type": ("", json.dumps(valid, default=str).encode()),
    }
    if media == "application/json":
        text = json.dumps(valid)
        return {
            **found,
            "arrays nested 3,000 deep": ("application/json", b"[" * 3000 + b"]" * 3000),
            "objects nested 3,000 deep": ("application/json", b'{"a":' * 3000 + b"1" + b"}" * 3000),
            "arrays nested 100,000 deep, never closed": ("application/json", b"[" * 100_000),
            "one level deeper than the reader reads": (
                "application/json",
                (f'{{"{first}": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}").encode(),
            ),
            "[null, null]": ("application/json", b"[null, null]"),
            "a JSON string": ("application/json", b'"hello"'),
            "a JSON number": ("application/json", b"5"),
            "null": ("application/json", b"null"),
            "true": ("application/json", b"true"),
            "not UTF-8": ("application/json", text[:-1].encode() + b', "x": "\xff\xfe"}'),
            "UTF-16": ("application/json", text.encode("utf-16")),
            "a byte-order mark": ("application/json", b"\xef\xbb\xbf" + text.encode()),
            "a name twice": (
                "application/json",
                (text[:-1] + f', "{first}": ' + json.dumps(valid[first]) + "}").encode(),
            ),
            "NaN": ("application/json", text[:-1].encode() + b', "x": NaN}'),
            "Infinity": ("application/json", text[:-1].encode() + b', "x": Infinity}'),
            "-Infinity": ("application/json", text[:-1].encode() + b', "x": -Infinity}'),
            "1e400": ("application/json", text[:-1].encode() + b', "x": 1e400}'),
            "-1e400": ("application/json", text[:-1].encode() + b', "x": -1e400}'),
            "an integer of 5,000 digits": (
                "application/json",
                text[:-1].encode() + b', "x": ' + b"9" * 5000 + b"}",
            ),
            "not JSON": ("application/json", text[:-1].encode()),
            "JSON as text/plain": ("text/plain", text.encode()),
            "JSON as application/x-www-form-urlencoded": ("application/x-www-form-urlencoded", text.encode()),
            **(
                {}
                if either
                else {"a multipart form": multipart({key: json.dumps(value) for key, value in valid.items()})}
            ),
        }
    fields = {key: value for key, value in valid.items() if isinstance(value, str)}
    return {
        **found,
        **({} if either else {"the form as JSON": ("application/json", json.dumps(fields).encode())}),
        "a multipart body without its boundary": ("multipart/form-data", b"--x\r\n\r\nnothing\r\n--x--\r\n"),
        "each field twice": multipart({key: [value, value] for key, value in fields.items()}),
        "more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS": multipart(
            {**fields, **{f"f{i}": "x" for i in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}}
        ),
        "a field over DATA_UPLOAD_MAX_MEMORY_SIZE": multipart({**fields, "extra": "x" * too_large}),
    }


def refusal(answer, op) -> str | None:
    """What is wrong with ``answer`` as a refusal: None when it is a documented 4xx problem."""
    status, kind = answer.status_code, answer.get("Content-Type", "")
    if not 400 <= status < 500:
        return f"{status}, not a 4xx"
    if kind != PROBLEM:
        return f"{status} {kind}, not a problem"
    body = json.loads(answer.content)
    if set(body) - {"errors"} != {"type", "title", "status", "detail"} or body["status"] != status:
        return f"{status}: not a problem's members: {body}"
    if str(status) not in op["responses"]:
        return f"{status} is not in the operation's document"
    return None


def refuses_every(
    client, method, path, op, headers, cases: dict[str, tuple[str, bytes]], urls: dict[str, str] | None = None
) -> list[str]:
    """Each case sent twice (without and with an Idempotency-Key), to the operation's URL or
    to the case's own in ``urls``: the failures."""
    urls = urls or dict.fromkeys(cases, target(method, path))
    failures = []
    # Nothing but the requests writes here: what the tables held after one refusal is what
    # they hold before the next (read anew after an answer that was no refusal).
    before = None
    for number, (name, (content_type, data)) in enumerate(cases.items()):
        for key in (None, f"hostile-{number}"):
            if before is None:
                before = database()
            answer = send(client, method, urls[name], headers, content_type, data, key)
            wrong = refusal(answer, op)
            if wrong is None:
                after = database()
                if tables := changed(before, after):
                    wrong = f"{answer.status_code}, but changed {tables}"
                before = after
            else:
                before = None
            if wrong:
                failures.append(
                    f"{name}{' (Idempotency-Key)' if key else ''}: {wrong}: {answer.content[:200]!r}"
                )
    return failures


@pytest.mark.parametrize(("method", "path", "op"), WITH_BODY, ids=ids(WITH_BODY))
def test_no_hostile_body_is_taken(client, partner, method, path, op):
    kind, valid = valid_body(method, path)
    assert kind in ("json", "multipart") and isinstance(valid, dict), "a body of fields"
    cases = hostile_bodies(body_media(op), valid, either="x-media" in op)
    failures = refuses_every(client, method, path, op, partner, cases)
    assert not failures, "\n".join(failures)


def test_a_list_sent_to_patch_a_customer_is_refused_naming_the_body(client, partner):
    """ninja reads a schema's fields from any object's attributes: a list had every field
    missing, so every field kept its value and the answer was 200."""
    url = target("PATCH", "/api/v1/customers/{id}")
    answer = send(client, "PATCH", url, partner, "application/json", b"[null, null]")
    assert answer.status_code == 422 and answer["Content-Type"] == PROBLEM
    assert answer.json()["errors"] == [{"field": "body", "message": "a JSON object, not list"}]


def test_a_body_nested_too_deep_is_a_400_naming_the_depth(client, partner):
    url = target("PATCH", "/api/v1/customers/{id}")
    for key in (None, "deep"):
        answer = send(client, "PATCH", url, partner, "application/json", b"[" * 3000 + b"]" * 3000, key)
        assert answer.status_code == 400 and answer.json()["type"] == "urn:hireops:problem:malformed-body"
        assert f"more than {MAX_DEPTH} deep" in answer.json()["detail"]


def test_a_body_after_a_byte_order_mark_is_a_400_naming_it(client, partner):
    """JSON sent over the network has no byte order mark (RFC 8259): refused, saying so."""
    url = target("PATCH", "/api/v1/customers/{id}")
    answer = send(client, "PATCH", url, partner, "application/json", b'\xef\xbb\xbf{"name": "x"}')
    assert answer.status_code == 400 and answer.json()["type"] == "urn:hireops:problem:malformed-body"
    assert "utf-8 bom" in answer.json()["detail"]


# --- each field given what its type cannot hold ------------------------------------------------

BIG = 2**70


def field_values(schema: dict, *, form: bool) -> dict[str, object]:
    """Values no field of ``schema``'s type may take (as JSON values, or a form's texts)."""
    kinds = {v.get("type") for v in variants(schema)}
    formats = {v.get("format") for v in variants(schema)}
    if "binary" in formats:
        return {}
    found: dict[str, object] = {}
    if kinds & {"integer", "number"}:
        found |= {"2**70": BIG, "-2**70": -BIG, "1e308 * 10 (as text)": "1e309", "NaN (as text)": "NaN"}
    if "string" in kinds and not kinds & {"integer", "number"}:
        found |= {"a NUL character": "a\x00b", "100,000 characters": "x" * 100_000}
        if not form:
            found |= {"a lone surrogate": "\ud800", "2**70": BIG}
    if "array" in kinds and not form:
        found |= {"an object for a list": {"a": 1}, "2**70 in a list": [BIG]}
    if "boolean" in kinds and not form:
        found |= {"a list for a boolean": [True]}
    if form:
        found = {name: str(value) for name, value in found.items()}
    return found


def fields(schema: dict, value: dict, prefix: str = ""):
    """(dotted path, schema) of each field of ``value``'s schema, into the first element of
    each list of objects ``value`` holds."""
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, field
        inner = value.get(name) if isinstance(value, dict) else None
        for variant in variants(field):
            items = deref(variant.get("items", {}))
            if variant.get("type") == "array" and items.get("properties") and inner:
                yield from fields(items, inner[0], f"{path}.0.")


def with_field(value: dict, path: str, replacement: object) -> dict:
    copy = json.loads(json.dumps(value))
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = replacement
    return copy


@pytest.mark.parametrize(("method", "path", "op"), WITH_BODY, ids=ids(WITH_BODY))
def test_no_field_takes_what_its_type_cannot_hold(client, partner, method, path, op):
    """2**70 and 1e309 where a number goes (a bigint column holds less than 2**63), NUL and lone
    surrogates in text (PostgreSQL stores neither), 100,000 characters: each refused as the
    field's own 4xx, before anything is written."""
    _, valid = valid_body(method, path)
    form = body_media(op) != "application/json"
    if not form:
        valid = {key: value for key, value in valid.items() if not hasattr(value, "seek")}  # no file in JSON
    cases = {}
    for name, schema in fields(body_schema(op), valid):
        for what, value in field_values(schema, form=form).items():
            sent = with_field(valid, name, value) if "." in name else {**valid, name: value}
            if form:
                cases[f"{name}: {what}"] = multipart({k: v for k, v in sent.items() if v is not None})
            else:
                cases[f"{name}: {what}"] = ("application/json", json.dumps(sent).encode())
    assert cases
    failures = refuses_every(client, method, path, op, partner, cases)
    assert not failures, "\n".join(failures)


# --- ids no row can have, queries sent twice ---------------------------------------------------

HOSTILE_IDS = {
    "2**70": str(BIG),
    "-2**70": str(-BIG),
    "1e400": "1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "5,000 digits": "9" * 5000,
    "a percent-encoded invalid UTF-8 byte": "%FF",
    "a NUL": "%00",
    "a lone surrogate, percent-encoded": "%ED%A0%80",
    "a dot segment": "..%2F..%2Fkey",
}


@pytest.mark.parametrize(("method", "path", "op"), WITH_PATH, ids=ids(WITH_PATH))
def test_an_id_no_row_can_have_is_a_4xx(client, partner, method, path, op):
    if method == "GET":
        content_type, data = "", b""
    else:
        kind, valid = valid_body(method, path)
        if kind == "multipart":
            content_type, data = multipart(valid)
        elif kind == "query":
            content_type, data = "", b""
            path = f"{path}?{'&'.join(f'{k}={quote(v)}' for k, v in valid.items())}"
        else:
            content_type, data = "application/json", json.dumps(valid).encode() if valid is not None else b""
    examples()[path.split("?")[0]]("tenant-a")  # a row the id might wrongly reach
    cases = {name: (content_type, data) for name in HOSTILE_IDS}
    urls = {name: PARAM.sub(value, path) for name, value in HOSTILE_IDS.items()}
    failures = refuses_every(client, method, path, op, partner, cases, urls)
    assert not failures, "\n".join(failures)


def a_value(schema: dict) -> str:
    """A value of the parameter's type: valid on its own (sent twice, it is the repetition
    that is refused)."""
    value = variants(schema)[0]
    if "enum" in value:
        return str(value["enum"][0])
    return {"integer": "1", "boolean": "true"}.get(
        value.get("type"), "2026-01-01T00:00:00Z" if value.get("format") else "x"
    )


@pytest.mark.parametrize(("method", "path", "op"), WITH_QUERY, ids=ids(WITH_QUERY))
def test_a_query_parameter_sent_twice_is_refused_naming_it(client, partner, method, path, op):
    url = target(method, path)
    for parameter in (q for q in parameters(op) if q["in"] == "query"):
        name, value = parameter["name"], a_value(parameter["schema"])
        before = database()
        answer = client.generic(method, f"{url}?{name}={quote(value)}&{name}={quote(value)}", "", **partner)
        assert refusal(answer, op) is None, (name, answer.status_code, answer.content[:300])
        assert answer.json()["errors"] == [{"field": name, "message": "sent more than once"}], name
        assert not changed(before, database()), name
        for hostile in ("2**70", str(BIG), "1e400", "NaN", "%FF", "%00"):
            if parameter["schema"].get("type") == "integer":
                answer = client.generic(method, f"{url}?{name}={hostile}", "", **partner)
                assert refusal(answer, op) is None, (name, hostile, answer.status_code, answer.content[:300])


# --- the production server ---------------------------------------------------------------------


def test_the_workers_problem_is_the_apis():
    """gunicorn's refusals are written without Django: the same members as every problem."""
    from hireops.api.web_worker import answer

    head, _, body = answer(414, "The request line is too long.").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ") and b"Content-Type: application/problem+json" in head
    assert json.loads(body).keys() == json.loads(problem(414, "x").content).keys()
    assert STATUSES  # gunicorn's own statuses for what it refuses, mapped


def raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """One request as bytes on a new connection; the answer's status, headers and body."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    message = EmailMessage()
    for line in lines:
        name, _, value = line.partition(":")
        message[name.strip()] = value.strip()
    return int(status_line.split()[1]), dict(message.items()), body


def assert_problem(status: int, headers: dict, body: bytes, expected: int) -> dict:
    assert status == expected, (status, body[:300])
    assert headers["Content-Type"] == PROBLEM, headers
    found = json.loads(body)
    assert found["status"] == expected and found["title"] and found["detail"]
    return found


@pytest.mark.processes
def test_the_production_server_answers_every_refusal_as_a_problem(admin_server):
    """gunicorn as the Procfile runs it (gunicorn.conf.py, DEBUG off): the longest legitimate
    query reaches Django; a longer request line is a 414 problem, a header section too large a
    431, a malformed request a 400, a body over Django's limit a 413, JSON nested 3,000 deep a
    400, all before any row is touched."""
    key = make_key(*all_scopes())
    auth = {"Authorization": f"Bearer {key}"}
    customers = f"{admin_server}/api/v1/customers"

    # Longer than gunicorn's default (4,094) and within what the document allows: Django answers.
    legitimate = "中" * 500  # identifier_value's maxLength, 9 bytes each once percent-encoded
    answer = requests.get(
        customers,
        params={"identifier_key": "org_id", "identifier_value": legitimate},
        headers=auth,
        timeout=20,
    )
    assert answer.status_code == 200 and answer.json() == {"data": [], "next_cursor": None}

    too_long = "/api/v1/customers?identifier_value=" + "x" * 9000
    found = assert_problem(
        *raw(admin_server, f"GET {too_long} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()), 414
    )
    assert "8,190 bytes" in found["detail"]

    huge_header = f"GET /api/v1/key HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'x' * 9000}\r\n\r\n"
    assert_problem(*raw(admin_server, huge_header.encode()), 431)
    many = "".join(f"X-Header-{i}: {i}\r\n" for i in range(101))
    assert_problem(
        *raw(admin_server, f"GET /api/v1/key HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n".encode()), 431
    )
    assert_problem(
        *raw(admin_server, b"GET /api/v1/key HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n"), 400
    )

    too_big = json.dumps({"name": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    for headers in (auth, {**auth, "Idempotency-Key": "big"}):
        answer = requests.post(
            customers, data=too_big, headers={**headers, "Content-Type": "application/json"}, timeout=20
        )
        assert answer.status_code == 413 and answer.headers["Content-Type"] == PROBLEM, answer.text[:300]

    deep = b"[" * 3000 + b"]" * 3000
    for headers in (auth, {**auth, "Idempotency-Key": "deep"}):
        answer = requests.post(
            customers, data=deep, headers={**headers, "Content-Type": "application/json"}, timeout=20
        )
        assert answer.status_code == 400 and answer.headers["Content-Type"] == PROBLEM, answer.text[:300]
        assert answer.json()["type"] == "urn:hireops:problem:malformed-body"

    answer = requests.get(customers, headers=auth, timeout=20)
    assert answer.status_code == 200 and answer.json()["data"] == []  # nothing was made
