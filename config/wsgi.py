"""WSGI entry point for the admin (gunicorn config.wsgi).

It also answers Feishu's pushes at ``/feishu/events/`` through the Django view, which is
what runserver and simple deployments use. Under load, serve the pushes with
``config.ingest`` (ASGI) instead: same rules, a fraction of the CPU per event.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
