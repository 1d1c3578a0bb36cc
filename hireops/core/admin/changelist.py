"""A ModelAdmin's change list with a mixin in front: how the admin site's guards reach the list
(``personal_guard``, ``admin_lookups``), each from its ModelAdmin mixin's
``get_changelist``."""

from functools import lru_cache


@lru_cache(maxsize=256)  # one class per pair, kept; bounded: an admin's own may be made per request
def with_mixin(mixin: type, changelist: type) -> type:
    """``changelist`` with ``mixin`` first in its method resolution order, named after both."""
    name = mixin.__name__.removesuffix("ChangeList") + changelist.__name__
    return type(name, (mixin, changelist), {})
