"""Every operation's method and path, for the middleware, which runs before Django routes the
request: an ``Idempotency-Key`` is honoured only on a request that reaches an operation (a
method or a path the API does not have is 405 or 404, whatever key it carries), and a 201
carries ``Location``, the URL where its object is read.

An operation that creates names where its object is read, a path template relative to the API
whose parameters are fields of its answer (``operation(..., created="/customers/{id}")``). The
middleware fills it in from the answer's body, on the first answer and on a replayed one alike
(an answer kept for an ``Idempotency-Key`` keeps its status and body, not its headers), so no
operation sets the header itself.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from hireops.core import discovery

_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    created: str | None  # the full path template of what its 201 creates

    def location(self, response: HttpResponseBase) -> str | None:
        """The created object's URL, from the 201's body; None when the answer lacks a field
        the template names (tests enumerate every 201 of the document, so none reaches a partner)."""
        if self.created is None:
            return None
        try:
            answer = json.loads(response.content)  # type: ignore[attr-defined]  # a 201 is never streamed
            return _PARAMETER.sub(lambda m: quote(str(answer[m.group(1)]), safe=""), self.created)
        except (ValueError, TypeError, KeyError):
            return None


_ROUTES: dict[str, list[Route]] = {}  # by method


def declare(method: str, path: str, created: str | None = None) -> None:
    """``method`` on ``path``, a full path template (``/api/v1/orders/{id}/notes``); ``created``:
    the full path template where its 201's object is read (``/api/v1/notes/{id}``)."""
    pieces = _PARAMETER.split(path)  # text, name, text, name, …, text
    pattern = "".join(re.escape(piece) if i % 2 == 0 else "[^/]+" for i, piece in enumerate(pieces))
    _ROUTES.setdefault(method.upper(), []).append(Route(method.upper(), re.compile(pattern + "$"), created))


def parameters(template: str) -> list[str]:
    """The answer's fields a template names."""
    return _PARAMETER.findall(template)


def find(method: str, path: str) -> Route | None:
    return next((route for route in _ROUTES.get(method, ()) if route.pattern.match(path)), None)


def of(request: HttpRequest) -> Route | None:
    # A process's first request reaches the middleware before Django has routed any: the
    # operations' modules declare them here as they register (hireops.api.site.register).
    discovery.require("api")
    return find(request.method or "", request.path)
