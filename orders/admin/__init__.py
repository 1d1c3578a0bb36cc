"""The vendor orders' admin: background checks, exams, and what was sent to Feishu about them."""

from . import orders, writes  # noqa: F401  (registers them)
