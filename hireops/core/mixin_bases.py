"""What a mixin is mixed in front of, said to the type checker only.

A ModelAdmin mixin's ``super().get_changelist(...)`` reaches the ``ModelAdmin`` it is mixed in
front of, a change-list mixin's ``super().get_queryset(...)`` the admin's ``ChangeList``, a
model field mixin's ``super().get_prep_value(...)`` the field: the checker cannot know that
from the mixin alone, and would find no such method on ``object``. A mixin subclasses one of
these names instead: for the checker it is the class it goes in front of, at run time it is
``object``, so every class's method resolution order is the one it always had.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.views.main import ChangeList
    from django.db.models import Field

    AdminMixin = ModelAdmin[Any]
    ChangeListMixin = ChangeList
    FieldMixin = Field[Any, Any]
else:
    AdminMixin = ChangeListMixin = FieldMixin = object
