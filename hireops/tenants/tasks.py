"""Thin tasks. Outbound calls are sent by the engine (hireops.core.outbound)."""

from hireops.core import outbound

from . import naming

lookup_name = outbound.task(naming.LOOKUP)
