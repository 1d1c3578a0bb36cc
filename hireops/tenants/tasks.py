"""Thin tasks. Outbound calls are sent by the engine (hireops.outbound)."""

from hireops import outbound

from . import naming

lookup_name = outbound.task(naming.LOOKUP)
