"""Thin tasks. Outbound calls are sent by the engine (hireops.core.outbound)."""

from hireops.core import outbound

from . import publishing

publish_fields = outbound.task(publishing.PUBLISH)
