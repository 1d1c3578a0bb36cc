"""``/healthz`` and ``/readyz`` on the admin server, answered before anything else runs.

They come first in MIDDLEWARE so that an orchestrator's probe (plain HTTP, addressed by the
container's IP) is not redirected to HTTPS, refused for its Host header or counted by
django-axes, and costs no session or database work beyond the probes themselves.
"""

import json

from django.http import HttpResponse

from . import probes

ALIVE = json.dumps({"status": "alive"}).encode()


def _answer(status: int, body: bytes) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return _answer(200, ALIVE)
            if request.path == "/readyz":
                status, body = probes.report(probes.readiness())
                return _answer(status, json.dumps(body).encode())
        return self.get_response(request)
