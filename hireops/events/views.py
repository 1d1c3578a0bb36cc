"""POST /feishu/events/: verify, store, acknowledge. Processing happens in Celery."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import verify
from .services import event_store

log = logging.getLogger(__name__)


def _answer(status: int, msg: str) -> JsonResponse:
    return JsonResponse({"msg": msg}, status=status)


@csrf_exempt
def feishu_events(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    length = request.META.get("CONTENT_LENGTH")
    if length and length.isdigit() and int(length) > verify.MAX_BODY_BYTES:
        return _answer(413, "body too large")  # refuse before reading it
    try:
        result = verify.parse(
            request.body,
            request.headers,
            encrypt_key=settings.FEISHU_ENCRYPT_KEY,
            verification_token=settings.FEISHU_VERIFICATION_TOKEN,
        )
    except verify.Rejected as exc:
        log.info("feishu event rejected: %s %s", exc.status, exc.reason)
        return _answer(exc.status, exc.reason)

    if isinstance(result, verify.Challenge):
        return JsonResponse({"challenge": result.challenge})

    try:
        _, created = event_store(result)
    except DatabaseError:
        # Not stored, so not acknowledged: Feishu retries (15 s, 5 min, 1 h, 6 h).
        log.exception("feishu event %s not stored", result.event_id)
        return _answer(503, "temporarily unavailable")
    if not created:
        log.info("feishu event %s is a duplicate delivery", result.event_id)
    return _answer(200, "success")
