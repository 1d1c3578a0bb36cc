"""The vendor orders' admin: background checks, exams, what was sent to Feishu about them, and
the catalogue the accounts offer."""

from . import catalogue, orders, writes  # noqa: F401  (registers them)

catalogue.offer_on_bindings()
