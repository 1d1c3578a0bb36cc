"""What the OpenAPI document says beyond what ninja reads from the operations' types, so that a
partner's programmer and a generated client can rely on it: the headers each answer carries
(where the middleware sends them), ``Idempotency-Key`` on every write, ``Location`` on every
201 with a link to the operation that reads the object, and every problem type.

Each is derived from what the code does (the write methods ``idempotency`` keeps answers for,
the kinds ``problems`` declares, the templates operations name for what they create), never
listed again by hand.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from . import idempotency, operations, ratelimit
from .problems import KINDS, TYPE_PREFIX

HEADERS = "#/components/headers/"
IDEMPOTENCY_KEY = "#/components/parameters/IdempotencyKey"

# What str.isprintable() accepts of a header's characters (Latin-1, as HTTP carries them):
# idempotency.handle refuses the rest (and an empty key or one past MAX_LENGTH) with a 400.
PRINTABLE = r"^[\x20-\x7E\xA1-\xAC\xAE-\xFF]+$"


def _header(
    description: str, schema: dict[str, Any], *, required: bool = True, **more: Any
) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema, **more}


RESPONSE_HEADERS = {
    "RateLimit": _header(
        "What is left of the key's budget (IETF httpapi draft \"RateLimit header fields for "
        'HTTP"): `r` requests, for `t` more seconds.',
        {"type": "string", "pattern": r'^"default";r=\d+;t=\d+$'},
        example='"default";r=998;t=42',
    ),
    "RateLimit-Policy": _header(
        "The key's budget: `q` requests a window of `w` seconds.",
        {"type": "string", "pattern": r'^"default";q=\d+;w=\d+$'},
        example=f'"default";q=1000;w={ratelimit.WINDOW}',
    ),
    "Retry-After": _header(
        "Seconds until the key's budget renews (RFC 9110).", {"type": "integer", "minimum": 0}, example=18
    ),
    "Idempotent-Replayed": _header(
        f"The answer kept for this `{idempotency.HEADER}`, sent again: the write did not run again.",
        {"type": "string", "const": "true"},
        required=False,
    ),
    "Location": _header(
        "Where the created object is read (`GET`), relative to this host.",
        {"type": "string", "format": "uri-reference"},
        example="/api/v1/customers/42",
    ),
    "WWW-Authenticate": _header(
        "The bearer challenge (RFC 6750).", {"type": "string", "pattern": "^Bearer "}
    ),
}

IDEMPOTENCY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": (
        f"Makes the write safe to send again (1 to {idempotency.MAX_LENGTH} printable characters; "
        "a UUID is a good choice). The same key with the same request answers the first answer "
        "again, with `Idempotent-Replayed: true`, and does nothing more; with another request, "
        "422 (`idempotency-key-reused`); while the first still runs, 409 "
        "(`idempotency-key-in-use`). Keys are kept per API key for at least 24 hours."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_LENGTH, "pattern": PRINTABLE},
    "example": "3f2c1b9e-8d7a-4c61-9e0f-2b5a7d4c8e11",
}


def headers_of(status: int, *, write: bool) -> list[str]:
    """The headers an answer with ``status`` carries (the middleware's rules): the rate limit
    on every answer to a key (all but 401, which has none), ``Retry-After`` with 429, the
    replay flag on a kept answer to a write (401 and 429 come before any is kept), ``Location``
    on 201."""
    if status == 401:
        return ["WWW-Authenticate"]
    names = ["RateLimit", "RateLimit-Policy"]
    if status == 429:
        names.append("Retry-After")
    elif write:
        names.append("Idempotent-Replayed")
    if status == 201:
        names.append("Location")
    return names


def complete(schema: dict[str, Any], base: str) -> None:
    """Add to ninja's document (paths relative to ``base``, the server's URL) what it does not
    know."""
    components = schema.setdefault("components", {})
    components["headers"] = RESPONSE_HEADERS
    components["parameters"] = {"IdempotencyKey": IDEMPOTENCY_PARAMETER}
    paths = schema.get("paths", {})
    for path, item in paths.items():
        for method, op in item.items():
            write = method.upper() in idempotency.WRITES
            if write:
                op.setdefault("parameters", []).append({"$ref": IDEMPOTENCY_KEY})
            for status, answer in op.get("responses", {}).items():
                answer["headers"] = {
                    name: {"$ref": HEADERS + name} for name in headers_of(int(status), write=write)
                }
                if int(status) == 201:
                    answer["links"] = _read_link(schema, method, base, path, answer)
    _problem_types(schema)


def _read_link(
    schema: dict[str, Any], method: str, base: str, path: str, answer: dict[str, Any]
) -> dict[str, Any]:
    """The 201's link to the ``GET`` its ``Location`` names; the document is refused (no server
    starts) for a 201 that names none, or names a field its answer lacks."""
    route = operations.find(method.upper(), base + path)
    template = None if route is None else route.created
    if template is None or not template.startswith(base + "/"):
        raise ImproperlyConfigured(
            f"{method.upper()} {path} answers 201: name its object's path (created=…)."
        )
    read = schema["paths"].get(template[len(base) :], {}).get("get")
    if read is None:
        raise ImproperlyConfigured(f"{method.upper()} {path}: no GET {template} reads what it creates.")
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    names = operations.parameters(template)
    if missing := [name for name in names if name not in fields]:
        raise ImproperlyConfigured(f"{method.upper()} {path}: its answer has no {', '.join(missing)}.")
    return {
        "read": {
            "operationId": read["operationId"],
            "parameters": {name: f"$response.body#/{name}" for name in names},
            "description": "The created object, where `Location` says.",
        }
    }


def _problem_types(schema: dict[str, Any]) -> None:
    """Every problem kind, for programs (``x-problem-types``) and for people (a table in the
    problem's description). ``type`` stays an open string rather than an enum: a generated
    client refuses an enum value it does not know, and a kind added later must not break it."""
    kinds = list(KINDS.values())
    schema["x-problem-types"] = [
        {"type": kind.type, "statuses": list(kind.statuses), "meaning": kind.meaning} for kind in kinds
    ]
    problem = schema["components"]["schemas"].get("ProblemOut")
    if problem is None:
        return
    rows = "\n".join(
        f"| `{kind.name}` | {', '.join(map(str, kind.statuses))} | {kind.meaning} |" for kind in kinds
    )
    problem["description"] = (
        "A problem detail (RFC 9457), answered as `application/problem+json` for every error. "
        f"`type` is `about:blank` where the status says it all, else `{TYPE_PREFIX}` and one of "
        "these kinds (also listed in the document's `x-problem-types`):\n\n"
        f"| kind | status | meaning |\n|---|---|---|\n{rows}\n"
    )
    problem["properties"]["type"].update(
        {
            "format": "uri",
            "description": f"`about:blank`, or `{TYPE_PREFIX}<kind>` (the kinds are listed above); "
            "new kinds may come, so treat an unknown one by its status.",
            "examples": ["about:blank", *(kind.type for kind in kinds[:3])],
        }
    )
