"""Operations: the admin's address in alerts, metrics, background jobs, uploads, e-mail and
alerts."""

import os
from pathlib import Path

from .base import VAR_DIR, env
from .orders import STORAGES

# The admin's address as staff reach it: the links in alerts (hireops.ops.alerts).
ADMIN_BASE_URL = env.str("ADMIN_BASE_URL", default="http://127.0.0.1:8000")

# Prometheus metrics: every process writes its counters to files in this directory (one per
# host, shared by its processes; emptied only when they all stopped), and `manage.py
# hireops_metrics` serves their sum on METRICS_BIND, which is not public unless you make it so.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "metrics"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR  # read by prometheus-client at import
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
METRICS_BIND = env.str("METRICS_BIND", default="127.0.0.1:9108")

# --- Background jobs ----------------------------------------------------------
# An admin action on more rows than this (or an import of more lines) runs as a
# background job with a progress page instead of inside the request.
BULK_INLINE_MAX = env.int("BULK_INLINE_MAX", default=20)
# A CSV file to import (referral accounts, exam logins) larger than this is refused on its
# form before it is read (hireops.core.spreadsheets.uploads); 5,000 rows are far smaller.
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# An export (CSV or Excel) of more rows than this is written by a worker to a file its
# requester downloads from the export's page (hireops.jobs.exports); fewer are answered at
# once. 20,000 rows take about a second either way.
EXPORT_INLINE_MAX = env.int("EXPORT_INLINE_MAX", default=20_000)
# An export's file and row are removed this long after it was asked for (jobs.expire_exports).
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)
EXPORTS_DIR = VAR_DIR / "media" / "exports"
STORAGES = {
    **STORAGES,
    # Export files: written by a worker, read by the admin server, so both must reach it:
    # one host's directory (the default, no URL maps to it) or a shared store, e.g.
    # EXPORT_STORAGE_BACKEND=storages.backends.s3.S3Storage with its options (JSON), as the
    # orders' reports (docs/deployment.md, "Files").
    "exports": {
        "BACKEND": env.str("EXPORT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json(
            "EXPORT_STORAGE_OPTIONS", default={"location": str(EXPORTS_DIR), "base_url": None}
        ),
    },
}

# --- E-mail and alerts (hireops.ops.channels) -------------------------------------
# Django's mail settings from one URL (smtp+tls://user:password@smtp.example.com:587, …); the
# default prints mails on the console and sends nothing.
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
globals().update({k: v for k, v in _EMAIL.items() if v is not None})
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds: a dead mail server must not hang a send
SERVER_EMAIL = env.str("SERVER_EMAIL", default="hireops@localhost")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=SERVER_EMAIL)
EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[hireops] ")
# A change to how someone signs in (an authenticator added or removed, recovery codes made, the
# password or email changed, the factors reset by an administrator) is mailed to that person
# (allauth's security notifications) when mail really goes out (EMAIL_URL names a mail server)
# and the user has an address.
ACCOUNT_EMAIL_NOTIFICATIONS = env.bool(
    "SECURITY_NOTIFICATIONS",
    default=not _EMAIL["EMAIL_BACKEND"].endswith(("console.EmailBackend", "dummy.EmailBackend")),
)
# Who hears about what needs a person: these addresses, and a Feishu group through its custom
# bot (the webhook URL; the secret when the bot verifies signatures). Each one unset: skipped.
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
ALERT_FEISHU_BOT_URL = env.str("ALERT_FEISHU_BOT_URL", default="")
ALERT_FEISHU_BOT_SECRET = env.str("ALERT_FEISHU_BOT_SECRET", default="")
# A worker runs no alerts in its first seconds, until the processes started with it (beat) have
# written their first heartbeat (hireops.ops.heartbeat). Not an operator's setting: the tests
# that watch a worker run the alerts shorten it (tests/settings.py).
HEARTBEAT_START_GRACE_SECONDS = 15.0
# Django's error reports hide the bot's URL like its secret: the URL ends in the bot's token.
DEFAULT_EXCEPTION_REPORTER_FILTER = "hireops.core.logs.error_pages.SecretSettingsFilter"
