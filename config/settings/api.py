"""The partners' REST API (/api/v1/, docs/api.md)."""

from .base import env

# Requests a minute per key, counted across every web process (the shared cache).
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=1000)
# How long the first answer to an Idempotency-Key is kept (the draft and Stripe: 24 h at least).
API_IDEMPOTENCY_HOURS = max(env.int("API_IDEMPOTENCY_HOURS", default=24), 24)

# django-ninja: Swagger UI's files come from our own static files, never a CDN.
NINJA_PAGINATION_MAX_LIMIT = 200
