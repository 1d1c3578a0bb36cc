"""One POST to a partner's endpoint: the connected address checked, no redirect, no proxy,
a bounded time and a bounded answer."""

import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.utils.translation import gettext_noop
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from hireops.core.messages import Message
from hireops.core.no_answer import NO_ANSWER_IN_TIME, no_answer

from .addresses import RefusedAddress, check_address

# Why there was no answer, as the delivery log stores it (a Message: in each reader's language;
# the fact, hireops.core.no_answer, never the exception's name).
NOT_SENT = gettext_noop("not sent: %(why)s")

KEPT = 1000  # characters of an answer kept in the delivery log
READ_AT_MOST = 64 * 1024  # bytes of an answer read at all


if TYPE_CHECKING:
    _Connection = HTTPConnection  # what ``_Checked`` is mixed in front of
else:
    _Connection = object


class _Checked(_Connection):
    """A connection that refuses to talk once connected to an address a webhook may not go to."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            check_address(sock.getpeername()[0])
        except RefusedAddress:
            sock.close()
            raise
        return sock


class _CheckedHTTP(_Checked, HTTPConnection):
    pass


class _CheckedHTTPS(_Checked, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTP


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPS


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxy from the environment: the address checked is the receiver's
    adapter = _CheckedAdapter(max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


@dataclass
class Answer:
    status: int | None  # None: no answer
    duration_ms: int
    text: str = ""  # the answer's first characters
    error: str = ""  # why there was no answer: a Message

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str], http: requests.Session | None = None) -> Answer:
    """Send once; never raises for the receiver's faults (the answer says what happened)."""
    http = http or session()
    timeout: float = settings.WEBHOOK_TIMEOUT
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        resp = http.post(
            url,
            data=body,
            headers={"content-type": "application/json", "user-agent": "hireops-webhooks/1", **headers},
            timeout=(min(timeout, 5.0), timeout),
            allow_redirects=False,
            stream=True,
        )
    except RefusedAddress as exc:
        return Answer(None, elapsed(), error=Message(NOT_SENT, why=exc.args[0]))
    except requests.Timeout:
        return Answer(None, elapsed(), error=Message(NO_ANSWER_IN_TIME))
    except requests.RequestException as exc:
        return Answer(None, elapsed(), error=no_answer(exc))
    with resp:
        read = b""
        try:
            for chunk in resp.iter_content(8192):
                read += chunk
                if len(read) >= READ_AT_MOST or time.monotonic() - started > timeout:
                    break
        except requests.RequestException:
            pass  # the status is the answer; its body was cut
    text = read.decode("utf-8", "replace")[:KEPT]
    return Answer(resp.status_code, elapsed(), text=text)
