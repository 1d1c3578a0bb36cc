"""Signed webhooks to partners' systems (hireops.webhooks, docs/api.md "Webhooks")."""

from .base import env

# http:// and receivers on loopback or private addresses: for ./dev run and the tests only
# (``check --deploy`` warns when it is on). Read by the web processes and the workers alike.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# One attempt's whole time: connect, send, answer (Standard Webhooks: receivers answer fast).
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=15.0)
# Deliveries to one endpoint in flight at once: a slow partner holds no more workers than this.
WEBHOOK_ENDPOINT_CONCURRENCY = env.int("WEBHOOK_ENDPOINT_CONCURRENCY", default=16)
# An endpoint failing every attempt this long is disabled and the operators alerted.
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=5)
# Events (with their deliveries and attempts) are forgotten this long after they happened.
WEBHOOK_KEEP_DAYS = env.int("WEBHOOK_KEEP_DAYS", default=30)
# A rotated secret keeps signing beside the new one this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
