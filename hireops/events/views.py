"""POST /feishu/events/ through Django: runserver, the test client, plain WSGI deployments.
Production serves the same path with ``hireops.ingest`` (``asgi.py``); both end in ``ingest``."""

from django.http import HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from . import ingest


@csrf_exempt
def feishu_events(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    answer = ingest.too_large(request.META.get("CONTENT_LENGTH")) or ingest.receive(
        request.body, request.headers
    )
    return HttpResponse(
        answer.body, status=answer.status, content_type="application/json", headers=dict(answer.headers)
    )
