"""hireops settings, read from the environment through django-environ, one module per concern.

Every setting has an embedded default that needs no server: SQLite, kombu's filesystem
broker, a file cache and file-lock coordination under ``var/``. ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``CACHE_URL`` and ``REDIS_URL`` switch to PostgreSQL, RabbitMQ/Redis and
Redis; the code is the same on both. Every variable is in ``.env.example`` and in
docs/deployment.md, "Settings (environment variables)" (tests/test_settings_documented.py
fails on one missing from either).

Production has no working Feishu credentials by default. The Feishu emulator (the top-level
``sandbox`` package) is installed only where ``FEISHU_SANDBOX=1`` asks for it: ``./dev run``,
the tests (``tests/settings.py``), the benchmarks; the production image does not contain it.

The modules are read in this order, and a later one may use an earlier one's values (by
importing them by name): base, django, feishu, sandbox, celery, signin, orders, referrals, api,
webhooks, operations, errortracking, logs. Where two name one setting
(``AUTHENTICATION_BACKENDS``, ``STORAGES``), the later one extends the earlier one's value.
"""

# isort: skip_file

from .base import *  # noqa: F403
from .django import *  # noqa: F403
from .feishu import *  # noqa: F403
from .sandbox import *  # noqa: F403
from .celery import *  # noqa: F403
from .signin import *  # noqa: F403
from .orders import *  # noqa: F403
from .referrals import *  # noqa: F403
from .api import *  # noqa: F403
from .webhooks import *  # noqa: F403
from .operations import *  # noqa: F403
from .errortracking import *  # noqa: F403
from .logs import *  # noqa: F403
