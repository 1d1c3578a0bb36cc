"""The types the client speaks in, for the type checker: Feishu's JSON and the shared cache.

Nothing here runs: the client takes any cache with these four methods (Django's cache in the
product, a dict-backed one in tests) and passes Feishu's JSON on as it came.
"""

from __future__ import annotations

from typing import Any, Protocol

# A JSON object as Feishu sends or receives it: its values are whatever Feishu put there
# (numbers with a fraction as Decimal, see http.py), read by the caller that knows the API.
JSONObject = dict[str, Any]


class Cache(Protocol):
    """What the client asks of the shared cache (``django.core.cache.cache``): tokens, the
    app_ticket, the quota's stop. Timeouts are whole seconds (Django's Redis backend)."""

    def get(self, key: str, /) -> Any: ...

    def set(self, key: str, value: Any, timeout: int, /) -> object: ...

    def add(self, key: str, value: Any, timeout: int, /) -> bool: ...

    def delete(self, key: str, /) -> object: ...
