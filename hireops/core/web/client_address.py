"""The address a request came from: for counting failed sign-ins (django-axes), allauth's rate
limits and security mails, and the record of a refused delivery of Feishu's events.

Behind the TLS proxy docs/deployment.md recommends, every request comes from the proxy's address:
lockouts would fall on the username alone (anyone could lock a colleague out) and a guesser
would never be slowed by their own address. The client's address is then in
X-Forwarded-For, which anyone can also write into their request. So it is read only when the
operator declares how many proxies stand in front (TRUSTED_PROXY_COUNT = N): each proxy
appends the address it was connected from, so the N-th entry from the right is the one the
outermost trusted proxy saw, and whatever a client wrote is further left and never read.
With 0 (the default) the header is ignored.
"""

import ipaddress

from django.conf import settings


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(remote: str | None, forwarded: str | None) -> str | None:
    """The client's address, given the connection's and the X-Forwarded-For header's value."""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0 or not forwarded:
        return remote or None
    entries = forwarded.split(",")
    if len(entries) < trusted:
        # It did not pass every proxy (a probe from inside, or someone who reached a proxy
        # from behind the first): no entry is known to be a proxy's, the connection's is.
        return remote or None
    return _address(entries[-trusted]) or remote or None


def client_ip(request) -> str | None:
    """A Django request's client address (``AXES_CLIENT_IP_CALLABLE``)."""
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))
