"""WSGI entry point for the admin (gunicorn hireops.wsgi).

It also answers Feishu's pushes at ``/feishu/events/`` through the Django view, which is
what runserver and simple deployments use. Under load, serve the pushes with
``hireops.ingest`` (ASGI) instead: same rules, a fraction of the CPU per event.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hireops.settings")

application = get_wsgi_application()
