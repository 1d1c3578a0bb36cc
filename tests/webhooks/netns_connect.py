"""Deliveries to addresses this host does not have, over real sockets: run as
``python -m tests.webhooks.netns_connect CASES_JSON`` by tests/webhooks/test_addresses.py.

The process moves into a network namespace of its own (as root: unshare(CLONE_NEWNET)), where
its loopback interface is given the IPv6 addresses the cases name (64:ff9b::7f00:1, a 6to4 or
Teredo address...), so a listener there accepts a real TCP connection to each. The resolver
answers ``partner.test`` with the case's address as the case spells it, the transport posts to
it, and what the listener received is printed as JSON: nothing when the transport refused the
connected address, the request when it let it through. Nothing leaves the namespace.

Each case: ``{"bind": the listener's address, "answer": the resolver's answer}``. ``bind`` may be
127.0.0.1 (with ``answer`` ::ffff:127.0.0.1: a dual-stack socket reaching an IPv4 listener).
"""

import ctypes
import fcntl
import ipaddress
import json
import os
import socket
import struct
import sys
import threading

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCSIFADDR = 0x8913, 0x8914, 0x8916
IFF_UP = 0x1


def own_namespace() -> str | None:
    """Into a new network namespace, its loopback up; why not, or None."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
    # An address added to an interface is "tentative" until duplicate detection ends, and
    # cannot be bound until then: this namespace has no neighbours to ask.
    for conf in ("all", "default", "lo"):
        with open(f"/proc/sys/net/ipv6/conf/{conf}/accept_dad", "w") as f:
            f.write("0")
    return None


def add_to_loopback(address: str) -> None:
    """struct in6_ifreq {in6_addr; u32 prefixlen; int ifindex} for SIOCSIFADDR."""
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        packed = socket.inet_pton(socket.AF_INET6, address)
        fcntl.ioctl(s, SIOCSIFADDR, struct.pack("16sIi", packed, 128, socket.if_nametoindex("lo")))


class Listener:
    """One connection accepted on ``address``; what it sent is ``received`` (None: nobody came)."""

    def __init__(self, address: str):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((address, 0))
        self.sock.listen()
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.received: bytes | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except TimeoutError:
            return
        with conn:
            conn.settimeout(10)
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = conn.recv(65536)
                if not chunk:  # closed by the client before a request
                    break
                got += chunk
            self.received = got
            if got:
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def finish(self) -> bytes | None:
        self.thread.join(15)
        self.sock.close()
        return self.received


def main(cases: list[dict]) -> list[dict]:
    for address in {ipaddress.ip_address(case["bind"]) for case in cases}:
        if address.version == 6 and not address.is_loopback:
            add_to_loopback(str(address))

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.utils import translation

    from hireops.webhooks import transport

    translation.activate("en")  # the refusals' words, as the test reads them

    real_getaddrinfo = socket.getaddrinfo
    results = []
    for case in cases:
        listener = Listener(case["bind"])
        answer = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (case["answer"], listener.port, 0, 0))]
        socket.getaddrinfo = lambda host, *a, _answer=answer, **k: (  # type: ignore[assignment]
            _answer if host == "partner.test" else real_getaddrinfo(host, *a, **k)
        )
        try:
            got = transport.post(f"http://partner.test:{listener.port}/hooks", b'{"type": "ping"}', {})
        finally:
            socket.getaddrinfo = real_getaddrinfo
        received = listener.finish()
        results.append(
            {
                **case,
                "status": got.status,
                "error": got.error,
                "connected": received is not None,
                "received": (received or b"").decode("latin-1"),
            }
        )
    return results


if __name__ == "__main__":
    why_not = own_namespace()
    if why_not:
        print(json.dumps({"skip": why_not}))
        sys.exit(0)
    print(json.dumps({"results": main(json.loads(sys.argv[1]))}))
