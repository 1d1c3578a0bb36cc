"""How the API reads what a request sends: its JSON body strictly, its query and form fields
once each. Whatever a client sends, the answer is a 4xx problem, never a 5xx.

A JSON body is UTF-8 text, an object (every operation's body is one), nested at most
``MAX_DEPTH`` deep (the deepest body the document describes is a few levels; Python's parser
would otherwise recurse until it overflows), with each name once in an object (two parsers
reading ``{"a": 1, "a": 2}`` may each take another value) and numbers that are numbers
(``NaN``, ``Infinity`` and ``1e400`` are no JSON a partner's serializer writes). A query or form
field is sent once, unless the operation takes a list: ``limit=1&limit=200`` would otherwise
mean whichever one the framework takes.

ninja reads bodies through its ``Parser`` (``NinjaAPI(parser=...)``). It answers whatever
``parse_body`` raises as a 400 raised *from* that exception; ``site`` answers the ``Problem``
raised here instead (a 400 for malformed JSON, a 415 for a body of another media type, a 422 for
one that is no object). ``Idempotency-Key``'s fingerprint reads a body with ``loads`` too.
"""

import json
import math
import re
from itertools import accumulate
from typing import Any, NoReturn

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from .problems import Problem

MAX_DEPTH = 32
JSON = "application/json"
FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})

# A JSON string (escapes included): what lies inside one is no nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class Malformed(ValueError):
    """A body this API does not read as JSON (the reason is the message)."""


def _refuse(why: str) -> NoReturn:
    raise Malformed(why)


def too_deep(text: str) -> bool:
    """Whether the arrays and objects of a JSON text nest past MAX_DEPTH: counted without
    recursion, and stopping there."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return any(level > MAX_DEPTH for level in accumulate(map(_DEPTH_STEP.__getitem__, brackets)))


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for name, value in pairs:
        if name in names:
            _refuse(f"the name {name[:40]!r} appears twice in one object")
        names[name] = value
    return names


def _constant(name: str) -> NoReturn:
    _refuse(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        _refuse(f"the number {text[:40]} is out of range")
    return number


# One decoder for every body: ``json.loads`` with hooks builds a new one at each call.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_names, parse_constant=_constant, parse_float=_finite)


def loads(raw: bytes) -> Any:
    """The JSON value of ``raw``, or ``Malformed`` saying why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _refuse("the body is not UTF-8 text")
    if too_deep(text):
        _refuse(f"arrays and objects nest more than {MAX_DEPTH} deep")
    if text.startswith("\ufeff"):  # what json.loads says before decoding
        _refuse("unexpected utf-8 bom (decode using utf-8-sig) at character 0")
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        _refuse(f"{exc.msg.lower()} at character {exc.pos}")
    except Malformed:
        raise
    except ValueError:  # Python reads no integer of 4,300 digits or more
        _refuse("a number has too many digits")


def malformed(exc: Malformed) -> Problem:
    return Problem(400, f"The body is not JSON this API reads: {exc}.", kind="malformed-body")


class StrictParser(Parser):
    """ninja's parser, reading as this module says."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # ninja reads a JSON operation's body here (a form's fields come from parse_querydict).
        if request.content_type != JSON:
            raise Problem(
                415,
                f"This operation takes {JSON}, not {request.content_type or 'no type'}.",
                kind="unsupported-media-type",
                headers={"Accept": JSON},
            )
        try:
            value = loads(request.body)
        except Malformed as exc:
            raise malformed(exc) from None
        if not isinstance(value, dict):
            raise Problem(
                422,
                "The request is not valid.",
                kind="invalid-request",
                errors=[("body", f"a JSON object, not {type(value).__name__.replace('NoneType', 'null')}")],
            )
        return value

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        form = data is not request.GET  # request.POST or request.FILES: a form's fields
        # No file sent beside a JSON body (JsonOrForm's fields read from it) is no form sent.
        files_of_json = data is request.FILES and not data and request.content_type == JSON
        if (
            form
            and not files_of_json
            and request.content_type not in FORMS
            and request.META.get("CONTENT_LENGTH", "0") not in ("", "0")
        ):
            raise Problem(
                415,
                f"This operation takes multipart/form-data, not {request.content_type or 'no type'}.",
                kind="unsupported-media-type",
                headers={"Accept": "multipart/form-data"},
            )
        repeated = sorted(
            name for name, values in data.lists() if len(values) > 1 and name not in list_fields
        )
        if repeated:
            where = "form field" if form else "query parameter"
            raise Problem(
                400 if not form else 422,
                f"Each {where} is sent once: {', '.join(repeated)}.",
                kind="repeated-parameter",
                errors=[(name, "sent more than once") for name in repeated],
            )
        return super().parse_querydict(data, list_fields, request)
