"""gunicorn's arbiter over uvicorn's HTTP server: what serves ``config.ingest``
(``gunicorn config.ingest --worker-class hireops.events.ingest_worker.IngestWorker``).

gunicorn stays the process manager (it forks the workers, restarts one that dies or stops
answering, stops them gracefully: the command, the Procfile and the image are unchanged);
each worker serves HTTP/1 with uvicorn's protocol, which parses with httptools (llhttp, in C)
on uvloop. gunicorn 27's own ASGI worker parsed every request in Python: the ingest server
spent 16 % more CPU an answer there (docs/benchmarks.md, *Webhook beside the official SDK's
receiver*).

uvicorn bounds neither how long a request may take to arrive (a connection that never sends
a byte is held forever) nor what arrives before the body (llhttp keeps no limit on the request
target, on the number of header fields or on their size). ``DeadlineProtocol`` adds both:

- each request gets ``REQUEST_READ_TIMEOUT`` seconds (``read_deadline``) from its first byte to
  its last, a connection's first request from the connection's opening: late headers are
  answered 408 before any application is called; a late body closes the connection, and the
  application reading it sees the client gone (``http.disconnect``) and stores nothing. Time
  spent answering is not counted: the clock stops once the request is in;
- gunicorn's limits on the request line and the headers (4094 bytes; 100 fields of at most
  8190 bytes; all of them, as they arrive, at most what those allow): a request past one is
  answered 414 or 431 and its connection closed, before any application runs.

Only HTTP/1 is served (no WebSocket, no HTTP/2). This module imports nothing of Django at the
top: gunicorn's arbiter imports it to find the worker class, before any application is loaded.
"""

import asyncio
import logging
import signal
import sys
from http import HTTPStatus

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import Server

log = logging.getLogger(__name__)

# gunicorn's defaults (limit_request_line, limit_request_fields, limit_request_field_size).
LIMIT_REQUEST_LINE = 4094
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190
# What may arrive before a request's body: its line and every field with its separators.
LIMIT_HEAD = LIMIT_REQUEST_LINE + LIMIT_REQUEST_FIELDS * (LIMIT_REQUEST_FIELD_SIZE + 4) + 4


class DeadlineProtocol(HttpToolsProtocol):
    """One connection: a timer runs while a request is arriving and cuts it off when it fires,
    and what arrives before the body is counted against gunicorn's limits."""

    read_timeout = 5.0  # REQUEST_READ_TIMEOUT, set by the worker before it serves

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arriving: asyncio.TimerHandle | None = None  # the timer of the request arriving now
        self._late = "headers"  # what that request is still sending (set as its clock starts)
        self._head = 0  # bytes received while its headers were arriving
        self._fields = 0
        self._refused = False
        # A connection's first request is timed from the connection's opening: one that never
        # sends a byte is held no longer than one that sends too few.
        self._start_clock()

    def data_received(self, data):
        if self._refused:
            return  # answered and closing: nothing more is parsed
        super().data_received(data)
        if self._late == "headers" and not self._refused:
            # httptools holds a field until it is whole: count the bytes as they arrive.
            self._head += len(data)
            if self._head > LIMIT_HEAD:
                self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large")

    def on_message_begin(self):
        # The next request on a kept-alive connection starts with its first byte (the idle
        # wait before it is the keep-alive timeout's).
        super().on_message_begin()
        self._head = self._fields = 0
        if self._arriving is None:
            self._start_clock()

    def on_url(self, url):
        if self._refused:
            return
        super().on_url(url)
        if len(self.url) > LIMIT_REQUEST_LINE:
            self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")

    def on_header(self, name, value):
        if self._refused:
            return
        self._fields += 1
        if self._fields > LIMIT_REQUEST_FIELDS:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many request headers")
        elif len(name) + len(value) + 2 > LIMIT_REQUEST_FIELD_SIZE:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request header too large")
        else:
            super().on_header(name, value)

    def on_headers_complete(self):
        if self._refused:
            return  # no application for a refused request
        self._late = "body"
        super().on_headers_complete()

    def on_body(self, body):
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self):
        if self._refused:
            return
        self._stop_clock()
        super().on_message_complete()

    def connection_lost(self, exc):
        self._stop_clock()
        super().connection_lost(exc)

    def _start_clock(self):
        self._late = "headers"
        self._arriving = self.loop.call_later(self.read_timeout, self._cut_off)

    def _stop_clock(self):
        if self._arriving is not None:
            self._arriving.cancel()
            self._arriving = None

    def _refuse(self, status: HTTPStatus, reason: str) -> None:
        from . import read_deadline  # loaded with the application by now

        self._refused = True
        self._stop_clock()
        log.warning("ingest: request refused before its body: %s", reason)  # nothing it sent
        self.transport.write(read_deadline.closing_answer(status, reason))
        self.transport.close()

    def _cut_off(self):
        self._arriving = None
        if self.transport.is_closing():
            return
        from . import read_deadline  # loaded with the application by now

        read_deadline.cut_off("ingest", self._late)
        if self._late == "headers":  # no application holds the exchange: the server answers
            self._refused = True
            self.transport.write(read_deadline.answer("1.1"))
        # A late body: the application reading it sees the client gone and stores nothing.
        self.transport.close()


class IngestWorker(Worker):
    """A gunicorn worker running uvicorn's server on uvloop with ``DeadlineProtocol`` (what
    ``uvicorn.workers.UvicornWorker``, deprecated in uvicorn, did, with this protocol)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # uvicorn's lines go through gunicorn's handlers: masked, and JSON where they are.
        for name, source in (("uvicorn.error", self.log.error_log), ("uvicorn.access", self.log.access_log)):
            logger = logging.getLogger(name)
            logger.handlers = source.handlers
            logger.setLevel(source.level)
            logger.propagate = False

    def init_signals(self):
        # gunicorn's handlers while the worker boots, and again once uvicorn's server has
        # stopped, which then hands back the signal it caught: SIGTERM ends the worker as an
        # ordinary exit (atexit's last publish included), where the default action killed it
        # before those ran. While it serves, uvicorn's own (SIGTERM, SIGINT: finish and stop).
        for s in self.SIGNALS:
            signal.signal(s, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, self.handle_exit)
        signal.signal(signal.SIGINT, self.handle_quit)
        signal.signal(signal.SIGQUIT, self.handle_quit)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.siginterrupt(signal.SIGUSR1, False)

    _server: Server | None = None

    def handle_exit(self, sig, frame):
        # A SIGTERM before uvicorn's server took its signals (the worker still booting) stops
        # that server as soon as it starts, not a graceful timeout later.
        super().handle_exit(sig, frame)
        if self._server is not None:
            self._server.should_exit = True

    def run(self):
        from django.conf import settings  # config.ingest has set Django up (load_wsgi)

        DeadlineProtocol.read_timeout = settings.REQUEST_READ_TIMEOUT
        config = Config(
            app=self.wsgi,
            http=DeadlineProtocol,
            loop="uvloop",
            ws="none",
            lifespan="on",
            log_config=None,
            access_log=self.cfg.accesslog is not None,  # as gunicorn: only where one is asked for
            server_header=False,
            timeout_keep_alive=self.cfg.keepalive,
            timeout_notify=self.timeout,
            callback_notify=self._notify,
            limit_max_requests=self.max_requests,
            forwarded_allow_ips=self.cfg.forwarded_allow_ips,
            backlog=self.cfg.backlog,
        )
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(self._serve(config))

    async def _serve(self, config: Config) -> None:
        server = self._server = Server(config=config)
        server.should_exit = not self.alive  # asked to stop while booting
        # SIGQUIT, gunicorn's "stop now", ends the server as SIGTERM does.
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGQUIT, server.handle_exit, signal.SIGQUIT, None
        )
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    async def _notify(self) -> None:
        self.notify()  # gunicorn's heartbeat: the arbiter kills a worker that stops it
