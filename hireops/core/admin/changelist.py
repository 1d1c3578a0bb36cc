"""A ModelAdmin's change list with a mixin in front: how the admin site's guards reach the list
(``personal_guard``, ``admin_lookups``), each from its ModelAdmin mixin's
``get_changelist``."""

from functools import lru_cache

from django.contrib.admin.views.main import ChangeList


def with_mixin(mixin: type, changelist: type) -> type[ChangeList]:
    """``changelist`` with ``mixin`` first in its method resolution order, named after both."""
    # ``changelist`` is a ``type`` here: mypy finds a ``type[ChangeList]`` itself unhashable
    # (it reads the instances' ``__hash__`` as the class's), which a class never is.
    return _with_mixin(mixin, changelist)


@lru_cache(maxsize=256)  # one class per pair, kept; bounded: an admin's own may be made per request
def _with_mixin(mixin: type, changelist: type) -> type[ChangeList]:
    name = mixin.__name__.removesuffix("ChangeList") + changelist.__name__
    return type(name, (mixin, changelist), {})
