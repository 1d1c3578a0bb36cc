"""The partner API's OpenAPI document as served, built once a process.

ninja builds it from every operation's schemas, about a second of CPU, and the API's test
modules read it when they are collected: in every xdist process, each module built it anew.
Each caller gets its own copy, free to change."""

import json
from functools import cache

from hireops.api.served import api


@cache
def _served() -> str:
    return json.dumps(api.get_openapi_schema())


def served_document() -> dict:
    """The document ``/api/v1/openapi.json`` serves (as JSON reads it back: lists, not tuples)."""
    return json.loads(_served())
