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
from django.utils.translation import gettext as _


class RefusedAddress(Exception):
    """A URL or an address a webhook may not be sent to; the message says why, for people."""


def allows_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def is_public(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, shared (CGNAT), link-local
    (169.254.169.254, the metadata services), multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_address(address: str) -> None:
    if not allows_private() and not is_public(address):
        raise RefusedAddress(_("%(address)s is not a public address.") % {"address": address})


def check_url(url: str) -> None:
    """Refuse a URL no delivery may go to (when an endpoint is saved)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedAddress(_("Enter an https:// URL."))
    if parts.scheme != "https" and not allows_private():
        raise RefusedAddress(_("Only https:// URLs are allowed."))
    if parts.username or parts.password:
        raise RefusedAddress(
            _("A URL may not carry a user name or password: the signature authenticates us.")
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedAddress(_("The URL's port is not valid.")) from exc
    if allows_private():
        return  # any address goes: nothing to resolve
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(_("%(host)s could not be resolved.") % {"host": parts.hostname}) from exc
    for *_rest, sockaddr in found:
        check_address(sockaddr[0])  # type: ignore[arg-type]  # an IP address's text
