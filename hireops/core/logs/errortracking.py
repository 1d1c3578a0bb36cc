"""Unhandled errors to Sentry (or a self-hosted Sentry), with nothing personal or secret in them.

Off unless ``SENTRY_DSN`` is set (``config.settings.errortracking`` calls ``init_sentry``). The
admin (Django), the ingest server (``config.ingest`` wraps its ASGI app) and Celery tasks
report their unhandled errors; ERROR log lines become events and INFO ones breadcrumbs.

What leaves the process is scrubbed in ``before_send`` / ``before_breadcrumb`` by the rules
log lines follow too (``hireops.core.privacy.scrubbing``: secrets cut out, the alert bot's secret and
webhook token included, mobiles and emails masked);
and some is never collected: default PII (users' addresses, cookies), local variables (they
hold payloads with mobiles), request bodies (Feishu's payloads).

This module is imported by the settings, so it imports no Django models.
"""

from ..privacy.scrubbing import FILTERED, scrub

__all__ = ["FILTERED", "before_breadcrumb", "before_send", "init_sentry", "scrub"]


def before_send(event: dict, hint: dict) -> dict:
    return scrub(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    if crumb.get("category") == "redis":
        crumb = _command_alone(crumb)
    return scrub(crumb)


def _command_alone(crumb: dict) -> dict:
    """A Redis command's breadcrumb without its key: a key can be a secret (a session's is the
    session id: Django's cached_db sessions read ``…cached_db<session id>`` on every page), and
    the SDK's Redis integration, on by default, records it."""
    data = crumb.get("data") or {}
    command = data.get("redis.command") or str(crumb.get("message") or "").split(" ", 1)[0]
    kept = {name: value for name, value in data.items() if name in ("redis.command", "redis.is_cluster")}
    return {**crumb, "message": command, "data": kept}


def init_sentry(dsn: str, *, environment: str, release: str | None = None, **options) -> None:
    """Start the SDK for this process. ``release`` None: the SDK's default (SENTRY_RELEASE, or
    the git commit when the code runs from a checkout). ``options`` are for tests (a transport)."""
    import logging

    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        # No users' identities or addresses, cookies, request bodies, SQL parameters or local
        # variables; headers and query strings only through the SDK's denylist and before_send.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist"}},
            "http_bodies": [],
            "url_query_params": {"mode": "denylist"},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,  # type: ignore[arg-type]  # an event is a dict (the SDK's TypedDict)
        before_breadcrumb=before_breadcrumb,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        **options,
    )
