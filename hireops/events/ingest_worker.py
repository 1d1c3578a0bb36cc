"""gunicorn's ASGI worker with a deadline on each request's arrival: what serves ``config.ingest``
(``gunicorn config.ingest --worker-class hireops.events.ingest_worker.IngestWorker``).

gunicorn 27's own ASGI worker bounds neither a connection's first request headers (it waits
for them forever) nor a body as a whole: each wait for the body's next bytes is bounded by
``timeout`` (30 s), and a sender trickling a byte at a time starts that wait again. Lowering
``timeout`` would not help (a trickle still resets it) and it also decides when the arbiter
kills a worker it has not heard from. So each request gets ``REQUEST_READ_TIMEOUT`` seconds
(``read_deadline``) from its first byte to its last here, where gunicorn parses it: late
headers are answered 408 before any application is called; a late body closes the
connection, and the application reading it sees the client gone (``http.disconnect``) and
stores nothing. Time spent answering is not counted: the clock stops once the request is in.

Only HTTP/1 is timed, the one protocol gunicorn serves unless HTTP/2 is configured.
This module imports nothing of Django at the top: gunicorn's arbiter imports it to find the
worker class, before any application is loaded.
"""

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi


class DeadlineProtocol(ASGIProtocol):
    """One connection: a timer runs while a request is arriving and cuts it off when it fires."""

    def __init__(self, worker):
        super().__init__(worker)
        self._arriving = None  # the timer of the request arriving now, if one is
        self._late = "headers"  # what that request is still sending

    def _start_http1(self, buffered=b""):
        # A connection's first request is timed from the connection's opening: one that never
        # sends a byte is held no longer than one that sends too few.
        self._start_clock()
        super()._start_http1(buffered)

    def _feed_callback_parser(self, data):
        # The next request on a kept-alive connection starts with its first byte (the idle
        # wait before it is gunicorn's keepalive's).
        if self._arriving is None:
            self._start_clock()
        return super()._feed_callback_parser(data)

    def _on_headers_complete(self):
        self._late = "body"
        return super()._on_headers_complete()

    def _on_message_complete(self):
        self._stop_clock()
        super()._on_message_complete()

    def connection_lost(self, exc):
        self._stop_clock()
        super().connection_lost(exc)

    def _start_clock(self):
        self._late = "headers"
        self._arriving = self.worker.loop.call_later(self.worker.read_timeout, self._cut_off)

    def _stop_clock(self):
        if self._arriving is not None:
            self._arriving.cancel()
            self._arriving = None

    def _cut_off(self):
        self._arriving = None
        if self._closed:
            return
        from . import read_deadline  # loaded with the application by now

        read_deadline.cut_off("ingest", self._late)
        if self._late == "headers":  # no application holds the exchange: the server answers
            self._safe_write(read_deadline.answer("1.1"))
        self._close_transport()
        # The connection's loop may be waiting for these headers: it wakes up, sees the
        # connection closed and ends (as after gunicorn's keepalive timeout).
        self._request_ready.set()


class IngestWorker(gasgi.ASGIWorker):
    def run(self):
        from django.conf import settings  # config.ingest has set Django up (load_wsgi)

        self.read_timeout = settings.REQUEST_READ_TIMEOUT
        # gunicorn builds each connection's protocol as ``ASGIProtocol(worker)``, by that name
        # in its worker module, and has no setting for another class. This process runs this
        # worker only, so the name is pointed at ours, once, before the first connection.
        gasgi.ASGIProtocol = DeadlineProtocol
        super().run()
