"""How long a request may take to arrive on the public ports, and what cutting one off does.

The ingest server (``ingest_worker``) and the listener's health port (``listener``) give each
request ``REQUEST_READ_TIMEOUT`` seconds to arrive whole, from its first byte (a connection's
first request: from the connection's opening). A total, not a wait between bytes: a sender
trickling a byte a second is cut off at the deadline all the same, so holding a connection
costs an attacker a new one every few seconds, and the servers go on serving everyone else.
"""

import json
import logging
from http import HTTPStatus

from django.conf import settings

from hireops.ops import metrics

log = logging.getLogger(__name__)


def seconds() -> float:
    return settings.REQUEST_READ_TIMEOUT


def closing_answer(status: HTTPStatus, msg: str, http_version: str = "1.1") -> bytes:
    """An answer the server writes itself, before closing the connection, to a request no
    application holds (one cut off here, or refused for its headers: ``ingest_worker``)."""
    body = json.dumps({"msg": msg}).encode()
    return (
        f"HTTP/{http_version} {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def answer(http_version: str) -> bytes:
    """A 408, closing the connection: for a request whose headers had not arrived."""
    return closing_answer(HTTPStatus.REQUEST_TIMEOUT, "request not received in time", http_version)


def cut_off(server: str, part: str) -> None:
    """Count and log one request cut off; ``part`` was still arriving (headers or body)."""
    metrics.slow_requests.labels(server, part).inc()
    # Nothing the sender sent and not its address: neither is needed to see an attack.
    log.info("%s: request cut off, its %s did not arrive within %s s", server, part, seconds())
