"""Text and values without secrets or personal data: what may leave a process.

One set of rules for everything that leaves: error reports (``errortracking``) and log
lines (``hireops.core.logs``).
- values under keys that name secrets (token, secret, password, authorization, …) are
  replaced, and the configured secrets (SECRET_KEY, the Feishu app secret, encrypt key and
  verification token, the alert bot's secret and webhook token) are cut out of any text;
- mobiles and emails are masked as the admin masks them (``hireops.core.privacy.masking``), under
  their keys and inside free text, where resident ID numbers are masked too, however they are
  written (grouped, with +86, full-width); Feishu's ids stay readable; Feishu access tokens
  (``t-…``, ``u-…``, ``a-…``) and ``Bearer …`` values are replaced;
- in URLs within any text, query values are masked unless their key is known to be harmless,
  and the path segments a URL pattern declares secret (``<secret:token>``) are masked
  (``hireops.core.secrets.secret_urls``): searched mobiles and emails, OAuth codes, invitation tokens
  and report links' signatures.

Imported by the settings (through the logging configuration), so it imports no Django models.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from django.core.signals import setting_changed

from ..secrets.secret_urls import FILTERED, mask_query_values, mask_secret_segments
from .masking import mask_personal, mask_personal_text

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
# Keys that hold our own ids and times, never data (and a git sha could look like a number).
UNTOUCHED = frozenset(
    {"event_id", "timestamp", "start_timestamp", "platform", "release", "environment", "sdk", "modules"}
)

BEARER = re.compile(r"Bearer\s+\S+", re.I)
FEISHU_TOKEN = re.compile(r"(?<![0-9A-Za-z])[tua]-[0-9A-Za-z_-]{16,}")


def _configured_secrets() -> list[str]:
    """Worked out once: every log line asks, and reading six settings through Django's lazy
    settings object was half of what scrubbing a short line cost. A test that overrides one
    of them clears it (``setting_changed``)."""
    global _secrets
    if _secrets is None:
        found = _read_secrets()
        if found is None:
            return []  # nothing to read yet: asked again next time
        _secrets = found
    return _secrets


_secrets: list[str] | None = None


def _read_secrets() -> list[str] | None:
    try:
        from django.conf import settings

        if not settings.configured:  # a gunicorn master: never import the settings just for this
            return None
        values = [getattr(settings, name, "") for name in SECRET_SETTINGS]
        # The alerts' group bot: its webhook URL ends in a token that works like a password.
        values.append(
            urlsplit(getattr(settings, "ALERT_FEISHU_BOT_URL", "")).path.rstrip("/").rpartition("/")[2]
        )
    except Exception:  # settings cannot be read: nothing to cut out
        return None
    return [v for v in values if isinstance(v, str) and len(v) >= 6]


def _forget_secrets(setting: str = "", **kwargs) -> None:
    global _secrets
    if setting in SECRET_SETTINGS or setting == "ALERT_FEISHU_BOT_URL":
        _secrets = None


setting_changed.connect(_forget_secrets)


def scrub_text(text: str) -> str:
    """Free text (a message, an exception's value) without secrets, tokens, mobiles or emails."""
    for secret in _configured_secrets():
        text = text.replace(secret, FILTERED)
    text = BEARER.sub("Bearer " + FILTERED, text)
    text = FEISHU_TOKEN.sub(FILTERED, text)
    text = mask_secret_segments(mask_query_values(text))
    return mask_personal_text(text)


def scrub(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with the rules above applied at every depth."""
    if key and SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return FILTERED
    if key == "query_string" and isinstance(value, str) and value:  # a URL's query, no "?" (Sentry's)
        return scrub_text("?" + value)[1:]
    if isinstance(value, dict):
        return {k: v if k in UNTOUCHED else scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, key) for v in value]
    if isinstance(value, str):
        masked = mask_personal(value, key)  # a value under an "email"/"mobile" key
        return masked if masked != value else scrub_text(value)
    return value
