"""A container health check over HTTP: ``python docker/probe.py URL [TIMEOUT]``.

Exits 0 when URL answers 200 and 1 otherwise (another status, a redirect, a refused or timed-out
connection), saying why on stdout, which Docker keeps in the container's health log. The
slim Python image has no curl. ``/healthz`` and ``/readyz`` are answered before Django's
TLS redirect; the request still says it came through the TLS proxy (``X-Forwarded-Proto:
https``) so that probing any other path behind ``SECURE_PROXY_SSL_HEADER`` is not redirected
either. Redirects are not followed.
"""

import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx surfaces as HTTPError, hence as "not ready"


def probe(url: str, timeout: float) -> tuple[bool, str]:
    if not url.startswith(("http://", "https://")):
        return False, f"not an HTTP URL: {url}"
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310 (http(s) only, above)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:  # refused, timed out, reset
        return False, f"{url}: {error}"
    return status == 200, f"{url}: HTTP {status}"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: probe.py URL [TIMEOUT_SECONDS]")
        return 2
    ok, message = probe(argv[1], float(argv[2]) if len(argv) == 3 else 4.0)
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
