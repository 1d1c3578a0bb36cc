"""The admin's request id: on every log line the request writes, and in the response."""

from .context import REQUEST_ID_HEADER, log_scope, request_id_from


class RequestIdMiddleware:
    """First in MIDDLEWARE, so the lines of every later middleware carry the id too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # for the lines Django writes after we return (ContextFilter)
        with log_scope(request_id=request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
