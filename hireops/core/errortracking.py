"""Unhandled errors to Sentry (or a self-hosted Sentry), with nothing personal or secret in them.

Off unless ``SENTRY_DSN`` is set (settings.py calls ``init_sentry``). The admin (Django), the
ingest server (``hireops.ingest`` wraps its ASGI app) and Celery tasks report their unhandled
errors; ERROR log lines become events and INFO ones breadcrumbs.

What leaves the process is scrubbed in ``before_send`` / ``before_breadcrumb``:
- never collected: default PII (users' addresses, cookies), local variables (they hold
  payloads with mobiles), request bodies (Feishu's payloads);
- values under keys that name secrets (token, secret, password, authorization, …) are
  replaced, and the configured secrets (SECRET_KEY, the Feishu app secret, encrypt key and
  verification token, the alert bot's secret and webhook token) are cut out of any text;
- mobiles and emails are masked as the admin masks them (``hireops.core.masking``), under
  their keys and inside free text; Feishu access tokens (``t-…``, ``u-…``, ``a-…``) and
  ``Bearer …`` values are replaced.

This module is imported by settings.py, so it imports no Django models.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from .masking import mask_personal, mask_personal_text

FILTERED = "[Filtered]"
SECRET_SETTINGS = (
    "SECRET_KEY",
    "FEISHU_APP_SECRET",
    "FEISHU_ENCRYPT_KEY",
    "FEISHU_VERIFICATION_TOKEN",
    "ALERT_FEISHU_BOT_SECRET",
)
SENSITIVE_KEY = re.compile(
    r"pass|secret|token|authori[sz]ation|cookie|session|csrf|signature|encrypt|api_?key|dsn|ticket", re.I
)
# Parts of an event that are ours and hold no data (and a git sha could look like a number).
UNTOUCHED = frozenset(
    {"event_id", "timestamp", "start_timestamp", "platform", "release", "environment", "sdk", "modules"}
)

BEARER = re.compile(r"Bearer\s+\S+", re.I)
FEISHU_TOKEN = re.compile(r"(?<![0-9A-Za-z])[tua]-[0-9A-Za-z_-]{16,}")


def _configured_secrets() -> list[str]:
    try:
        from django.conf import settings

        values = [getattr(settings, name, "") for name in SECRET_SETTINGS]
        # The alerts' group bot: its webhook URL ends in a token that works like a password.
        values.append(
            urlsplit(getattr(settings, "ALERT_FEISHU_BOT_URL", "")).path.rstrip("/").rpartition("/")[2]
        )
    except Exception:  # settings not configured (yet): nothing to cut out
        return []
    return [v for v in values if isinstance(v, str) and len(v) >= 6]


def scrub_text(text: str) -> str:
    """Free text (a message, an exception's value) without secrets, tokens, mobiles or emails."""
    for secret in _configured_secrets():
        text = text.replace(secret, FILTERED)
    text = BEARER.sub("Bearer " + FILTERED, text)
    text = FEISHU_TOKEN.sub(FILTERED, text)
    return mask_personal_text(text)


def scrub(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with the rules above applied at every depth."""
    if key and SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return FILTERED
    if isinstance(value, dict):
        return {k: v if k in UNTOUCHED else scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, key) for v in value]
    if isinstance(value, str):
        masked = mask_personal(value, key)  # a value under an "email"/"mobile" key
        return masked if masked != value else scrub_text(value)
    return value


def before_send(event: dict, hint: dict) -> dict:
    return scrub(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    return scrub(crumb)


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
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        **options,
    )
