"""Vendor orders: report files and their links, turnaround, purging, sealed secrets."""

from .base import VAR_DIR, env
from .django import STORAGES

# Where Feishu fetches report files: this server's public address (the path
# /orders/reports/ must be reachable from Feishu; nothing else needs to be).
ORDER_REPORT_BASE_URL = env.str("ORDER_REPORT_BASE_URL", default="http://127.0.0.1:8000")
ORDER_REPORT_LINK_DAYS = env.int("ORDER_REPORT_LINK_DAYS", default=180)
# An open order is overdue after its package's or paper's turnaround; this for an id the
# catalogue does not have (any more).
ORDER_DEFAULT_TURNAROUND_DAYS = env.int("ORDER_DEFAULT_TURNAROUND_DAYS", default=7)
# Candidates' personal data is purged this long after their order ended (orders.purge).
ORDER_PURGE_AFTER_DAYS = env.int("ORDER_PURGE_AFTER_DAYS", default=180)
# Keys for secrets stored in the database (an exam's password): hireops.core.secrets.sealing.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

STORAGES = {
    **STORAGES,
    # Vendor orders' report files (orders.reports): a directory no URL maps to; Feishu gets
    # expiring signed links. Another backend (S3-compatible storage through django-storages,
    # say) by ORDER_REPORT_STORAGE_BACKEND and its ORDER_REPORT_STORAGE_OPTIONS (JSON).
    "reports": {
        "BACKEND": env.str(
            "ORDER_REPORT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "ORDER_REPORT_STORAGE_OPTIONS", default={"location": str(VAR_DIR / "reports"), "base_url": None}
        ),
    },
}
