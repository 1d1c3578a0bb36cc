"""A partner's receiver for the tests: a real HTTP server on 127.0.0.1 that records each request
and answers as told (a status, after a delay)."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from sandbox.server import QuietHTTPServer


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list = field(default_factory=list)
    answers: list = field(default_factory=list)  # statuses to answer in turn; then 200
    delay: float = 0.0
    started: threading.Event = field(default_factory=threading.Event)  # a request arrived

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else 200

    def wait_for(self, n: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{n} requests expected, {len(self.requests)} arrived")
            time.sleep(0.05)


def start() -> tuple[Receiver, QuietHTTPServer]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            receiver.started.set()
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.next_status()
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answered {status}".encode())

        def log_message(self, *args):
            pass

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
