"""Where a webhook may go: never to this host, a private network or a cloud's metadata service.

A URL is checked when an endpoint is saved (its host resolved, every address public) and the
connection itself is checked at every delivery: the address the socket actually connected to
must be public, so a name that resolves elsewhere by the time of the delivery (DNS rebinding)
is caught where it matters. Redirects are never followed (``transport``).

``WEBHOOK_ALLOW_PRIVATE_URLS`` (``./dev run`` and the tests only) allows ``http://`` and local
receivers; ``check --deploy`` warns when it is on.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from hireops.core.messages import Message


class RefusedAddress(Exception):
    """A URL or an address a webhook may not be sent to; the message (a Message: a delivery's log
    stores it) says why, for people."""


def allows_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


# IPv6 addresses that carry an IPv4 one: a packet to them reaches that IPv4 host, through a
# translator or a tunnel, so each IPv4 carried is judged as if it were the address itself.
# IPv4-mapped (::ffff:0:0/96) is not among them: it is how a dual-stack socket names an IPv4
# peer, and is judged as that IPv4 alone (``is_public``).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # NAT64's well-known prefix (RFC 6052)
_LAST_32_BITS = (
    _NAT64,
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # NAT64 for local use (RFC 8215)
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated, RFC 4291)
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 2765)
)
# Not globally reachable, whatever they carry (IANA's registries). Python's own tables say so
# of most only in later patch releases (3.11.7 calls 64:ff9b:1::1, 2002::1, ::7f00:1 and
# fec0::1 global), so the judgement does not depend on the patch release that runs it.
_NOT_GLOBAL = (
    # Reserved by the IETF (IPv4-compatible and -translated, loopback, unspecified), but for
    # NAT64's well-known prefix, which the registry says is globally reachable.
    ipaddress.IPv6Network("::/8"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # a site's own NAT64
    ipaddress.IPv6Network("2001::/32"),  # Teredo: a tunnel to whichever IPv4 hosts it names
    ipaddress.IPv6Network("2002::/16"),  # 6to4: the same
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, still inside old networks)
)


def carried_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a packet to ``ip`` reaches: NAT64 and the IPv4-compatible and
    -translated forms carry one in their last 32 bits, 6to4 one in bits 16-48, Teredo two (its
    server's in bits 32-64, its client's XOR 0xffffffff in the last 32 bits)."""
    found = [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _LAST_32_BITS if ip in net]
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client), the client's bits already flipped back
    return found


def _global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def is_public(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, shared (CGNAT), link-local
    (169.254.169.254, the metadata services), multicast, reserved or unspecified; an IPv6
    address that carries an IPv4 one (NAT64, 6to4, Teredo, IPv4-compatible or -translated) is
    public only if every IPv4 it carries is, and it is itself globally reachable (of these,
    only NAT64's well-known prefix is)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a zone (fe80::1%eth0) is no part of it
    if isinstance(ip, ipaddress.IPv4Address):
        return _global(ip)
    if ip.ipv4_mapped is not None:
        return _global(ip.ipv4_mapped)
    return (
        all(_global(v4) for v4 in carried_ipv4(ip))
        and _global(ip)
        and (ip in _NAT64 or not any(ip in net for net in _NOT_GLOBAL))
    )


def check_address(address: str) -> None:
    if not allows_private() and not is_public(address):
        raise RefusedAddress(Message(gettext_noop("%(address)s is not a public address."), address=address))


def check_url(url: str) -> None:
    """Refuse a URL no delivery may go to (when an endpoint is saved)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedAddress(Message(gettext_noop("Enter an https:// URL.")))
    if parts.scheme != "https" and not allows_private():
        raise RefusedAddress(Message(gettext_noop("Only https:// URLs are allowed.")))
    if parts.username or parts.password:
        raise RefusedAddress(
            Message(
                gettext_noop("A URL may not carry a user name or password: the signature authenticates us.")
            )
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedAddress(Message(gettext_noop("The URL's port is not valid."))) from exc
    if allows_private():
        return  # any address goes: nothing to resolve
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(
            Message(gettext_noop("%(host)s could not be resolved."), host=parts.hostname)
        ) from exc
    for *_rest, sockaddr in found:
        check_address(sockaddr[0])  # type: ignore[arg-type]  # an IP address's text
