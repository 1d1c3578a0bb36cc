"""The platform's admin: the building blocks apps use (``base``), the change history and the
schedules. The admin's app (``AdminConfig.ready``) registers the last two once every app's
admin.py is imported: importing this package registers nothing, so that it loads before the
models do."""

from .actions import read_only_action
from .base import ChangedThroughActions, ReadOnlyInline, SystemRecordAdmin, action_page

__all__ = ["ChangedThroughActions", "ReadOnlyInline", "SystemRecordAdmin", "action_page", "read_only_action"]
