"""The platform's admin: the building blocks apps use (``base``), the change history and the
schedules. Django's admin autodiscovery imports this package, which registers the last two."""

from . import history, libraries, schedules  # noqa: F401  (registers them)
from .actions import read_only_action
from .base import ChangedThroughActions, ReadOnlyInline, SystemRecordAdmin, action_page

__all__ = ["ChangedThroughActions", "ReadOnlyInline", "SystemRecordAdmin", "action_page", "read_only_action"]
