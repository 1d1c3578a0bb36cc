"""Error tracking (Sentry), initialised here so every process reports from its first line."""

from .base import DEBUG, env

# Unhandled errors of the admin, the ingest server and Celery go to Sentry when SENTRY_DSN is
# set (it may point at a self-hosted Sentry where data must stay in China); scrubbed of
# personal data and secrets first (hireops.core.logs.errortracking). Release: SENTRY_RELEASE, or
# the git commit of a checkout.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from hireops.core.logs.errortracking import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )
