"""Django's ``ModelBackend``, with a user's permissions read in one query instead of two.

Every admin page asks for them (the site's menu, each model's buttons and actions, the
second-factor middleware): ``ModelBackend`` reads the user's own permissions and their groups'
in two queries, then keeps the union on the user object for the rest of the request
(``_perm_cache``, which the other backends read too). Here one query, a UNION, reads both,
compiled once: the UNION and its joins cost the ORM more to compile (about a millisecond)
than the database to run. For the same reason the signed-in user, read on every page, is
read with a query compiled once (``get_user``). Signing in, ``has_perm`` and the per-kind
reads (``get_user_permissions``, ``get_group_permissions``) are ``ModelBackend``'s, unchanged.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connections, router

from .compiled import OneRow

_NAMES = ("content_type__app_label", "codename")
_ANY_USER = -1  # compiled in place of the user's id, then given as the parameter


class ModelBackendInOneQuery(ModelBackend):
    def get_user(self, user_id):
        """``ModelBackend.get_user``: the user, if there is one and may sign in."""
        user = _user_by_pk().get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in _permission_names(user_obj)}
        return user_obj._perm_cache


def _permission_names(user) -> list[tuple[str, str]]:
    """(app_label, codename) of each of the user's permissions: a superuser's, all of them."""
    alias = router.db_for_read(Permission)
    sql, params = _compiled(alias, user.is_superuser)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [user.pk if p == _ANY_USER else p for p in params])
        return cursor.fetchall()


@cache
def _user_by_pk() -> OneRow:
    users = get_user_model()._default_manager
    return OneRow(users.model, lambda pk: users.filter(pk=pk), _ANY_USER)


@cache
def _compiled(alias: str, superuser: bool) -> tuple[str, tuple]:
    """The query's SQL, compiled by the ORM once, with ``_ANY_USER`` for the user's id."""
    # Unordered (a set is made of it): SQLite refuses an ORDER BY inside a UNION's parts, and
    # Permission's default ordering would put one in each.
    permissions = Permission.objects.order_by()
    if superuser:
        query = permissions.values_list(*_NAMES)
    else:
        own = permissions.filter(user=_ANY_USER).values_list(*_NAMES)
        query = own.union(permissions.filter(group__user=_ANY_USER).values_list(*_NAMES))
    sql, params = query.query.get_compiler(alias).as_sql()
    assert params == (() if superuser else (_ANY_USER, _ANY_USER)), params
    return sql, params
