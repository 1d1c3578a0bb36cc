"""The worker of the admin's and the API's server, ``gunicorn config.wsgi`` (named by
gunicorn.conf.py): gunicorn's threaded worker (gthread, as the Procfile's ``--threads`` asks),
whose own error answers are problem details.

gunicorn refuses some requests itself, before Django sees them: a request line longer than
``limit_request_line`` (414), a header section past ``limit_request_fields`` or
``limit_request_field_size`` (431), a request that is not HTTP it reads (400). It answers with an
HTML page; every error of ``/api/v1/`` is ``application/problem+json`` (RFC 9457), and a request
line too long is refused before its path is read, so these answers are problem details on every
path. gunicorn has no setting for its error pages: a worker class answers its own errors by
overriding ``Worker.handle_error(req, client, addr, exc)``, which every gunicorn worker calls with
the request (None when it could not be read), the client's socket, its address and the exception.
What is not the client's fault (an application error, a TLS failure, a configuration problem)
is answered as gunicorn answers it.

This module imports nothing of Django: gunicorn's arbiter loads the worker class before any
application.
"""

import json
import socket
from http import HTTPStatus

from gunicorn.http import Request, errors
from gunicorn.workers.gthread import ThreadWorker

CONTENT_TYPE = "application/problem+json"  # hireops.api.problems.CONTENT_TYPE

# gunicorn's statuses for what it refuses (gunicorn.workers.base.Worker.handle_error); any
# other request it cannot read is a 400.
STATUSES: dict[type[errors.ParseException], int] = {
    errors.LimitRequestLine: 414,
    errors.LimitRequestHeaders: 431,
    errors.ExpectationFailed: 417,
    errors.UnsupportedTransferCoding: 501,
    errors.ForbiddenProxyRequest: 403,
}


def status_of(exc: BaseException) -> int | None:
    """The status of a request gunicorn refused; None for what is not the client's fault."""
    if not isinstance(exc, errors.ParseException) or isinstance(exc, errors.ConfigurationProblem):
        return None
    return next((status for kind, status in STATUSES.items() if isinstance(exc, kind)), 400)


def answer(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 answer with a problem as ``hireops.api.problems.problem`` writes it; the
    connection is closed after it, as gunicorn closes it after any error of its own."""
    body = json.dumps(
        {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class WebWorker(ThreadWorker):
    def handle_error(
        self,
        req: Request | None,
        client: socket.socket,
        addr: str | int | tuple[str, int],
        exc: BaseException,
    ) -> None:
        status = status_of(exc)
        if status is None:
            super().handle_error(req, client, addr, exc)
            return
        # Logged as gunicorn logs a request it refuses.
        self.log.warning("Invalid request from ip=%s: %s", addr[0] if isinstance(addr, tuple) else addr, exc)
        try:
            client.sendall(answer(status, self.detail(status)))
        except OSError:
            self.log.debug("Failed to send error message.")

    def detail(self, status: int) -> str:
        cfg = self.cfg
        if status == 414:
            return f"The request line is longer than {cfg.limit_request_line:,} bytes."
        if status == 431:
            return (
                f"The header section is larger than this server reads: at most {cfg.limit_request_fields} "
                f"fields of {cfg.limit_request_field_size:,} bytes each."
            )
        if status == 417:
            return "Expect takes 100-continue only."
        if status == 501:
            return "Transfer-Encoding takes chunked only."
        if status == 403:
            return "Proxy headers are taken from the trusted proxies only."
        return "The request is not HTTP/1.1 this server reads."
