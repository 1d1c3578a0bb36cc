"""POST /feishu/events/ through Django: runserver, the test client, plain WSGI deployments.
Production serves the same path with ``config.ingest`` (``asgi.py``); both end in ``delivery``."""

from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from . import delivery
from .rejection_recorder import Origin, recorder
from .verify import Kind


@csrf_exempt
def feishu_events(request):
    origin = Origin(request.META.get("REMOTE_ADDR") or "", request.headers)
    if request.method != "POST":
        recorder.note(405, "method not allowed", Kind.METHOD_NOT_ALLOWED, origin=origin)
        return HttpResponseNotAllowed(["POST"])
    answer = delivery.too_large(request.META.get("CONTENT_LENGTH"), origin) or delivery.receive(
        request.body, request.headers, origin
    )
    return HttpResponse(
        answer.body, status=answer.status, content_type="application/json", headers=dict(answer.headers)
    )
