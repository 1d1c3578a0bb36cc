"""WSGI entry point (gunicorn hireops.wsgi).

Feishu's webhook is the hot path and needs none of the admin's sessions, auth, CSRF,
messages or locale middleware; running them cost about a third of a webhook request's
CPU (bench/webhook.py). So requests for ``/feishu/events/`` go to a second Django
handler built with ``WEBHOOK_MIDDLEWARE``; everything else gets the full stack.
Same settings, same URLconf, same view.
"""

import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hireops.settings")

WEBHOOK_PATH = "/feishu/events/"
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


class WebhookHandler(WSGIHandler):
    """A Django handler whose middleware chain is ``WEBHOOK_MIDDLEWARE``."""

    def load_middleware(self, is_async=False):
        from django.conf import settings

        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE  # read once, here, while the chain is built
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


_site = get_wsgi_application()
_webhook = WebhookHandler()


def application(environ, start_response):
    handler = _webhook if environ.get("PATH_INFO") == WEBHOOK_PATH else _site
    return handler(environ, start_response)
