"""The server for Feishu's event pushes:
``gunicorn config.ingest -k hireops.events.ingest_worker.IngestWorker``.

It serves ``/feishu/events/`` only, natively on asyncio (``hireops.events.asgi``), so
the pushes never queue behind the admin and are answered well inside Feishu's 3-second
deadline under load. The admin is served by ``config.wsgi``; in production, route
``/feishu/events/`` to this server (or give Feishu this server's address). The worker class
runs uvicorn's HTTP protocol (httptools, uvloop) under gunicorn's arbiter, with a deadline on
each request's arrival (``REQUEST_READ_TIMEOUT``) and gunicorn's limits on what arrives before
the body, so slow or hostile senders cannot hold its connections or its memory; plain
``-k asgi`` would serve without either.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["HIREOPS_SERVER"] = "ingest"  # no admin here: settings skip its autodiscovery
django.setup(set_prefix=False)

import sentry_sdk  # noqa: E402

from hireops.events.asgi import application  # noqa: E402  (needs the apps loaded)

if sentry_sdk.get_client().is_active():  # SENTRY_DSN set: report this server's unhandled errors too
    from sentry_sdk.integrations.asgi import SentryAsgiMiddleware

    application = SentryAsgiMiddleware(application)

__all__ = ["application"]
