"""Logs: every process writes to stderr, plain or JSON, masked."""

from hireops.core.logs.formatting import logging_config

from .base import env

# Every process (admin, ingest server, Celery's worker and beat, gunicorn itself through
# gunicorn.conf.py) writes to stderr: ``plain`` lines, or ``json`` objects one a line with
# request_id / event_id / task / task_id / feishu_log_id where they apply. Mobiles, emails and
# secrets are redacted in both (hireops.core.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO"))
