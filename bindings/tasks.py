"""Thin tasks. Outbound calls are sent by the engine (hireops.outbound)."""

from hireops import outbound

from . import publishing

publish_fields = outbound.task(publishing.PUBLISH)
