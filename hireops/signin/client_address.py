"""The address a request came from, for counting failed sign-ins (django-axes) and allauth's
rate limits and security mails.

Behind the TLS proxy the README recommends, every request comes from the proxy's address:
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


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote
    entries = forwarded.split(",")
    if len(entries) < trusted:
        # It did not pass every proxy (a probe from inside, or someone who reached a proxy
        # from behind the first): no entry is known to be a proxy's, the connection's is.
        return remote
    return _address(entries[-trusted]) or remote
