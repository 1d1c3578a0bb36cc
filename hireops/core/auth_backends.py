"""Django's ``ModelBackend``, with a user's permissions read in one query instead of two.

Every admin page asks for them (the site's menu, each model's buttons and actions, the
second-factor middleware): ``ModelBackend`` reads the user's own permissions and their groups'
in two queries, then keeps the union on the user object for the rest of the request
(``_perm_cache``, which the other backends read too). Here one query, a UNION, reads both,
compiled once: the UNION and its joins cost the ORM more to compile (about a millisecond)
than the database to run. For the same reason the signed-in user, read on every page, is
read with a query compiled once (``get_user``), and that query brings the user's permissions
as a column of its own: every page's user and permissions in one statement, read afresh on
each request as before (a permission taken away is gone at the next page). Signing in,
``has_perm`` and the per-kind reads (``get_user_permissions``, ``get_group_permissions``) are
``ModelBackend``'s, unchanged.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import NotSupportedError, connections, router
from django.db.models import Expression, TextField

from .compiled import OneRow

_NAMES = ("content_type__app_label", "codename")
_ANY_USER = -1  # compiled in place of the user's id, then given as the parameter


class ModelBackendInOneQuery(ModelBackend):
    def get_user(self, user_id):
        """``ModelBackend.get_user``: the user, if there is one and may sign in, with their
        permissions read in the same statement (the request's ``_perm_cache``)."""
        user = _user_by_pk().get(user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        names = user.__dict__.pop(_PERMISSIONS)
        user._perm_cache = set(names.split(",")) if names else set()
        return user

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


_PERMISSIONS = "_permission_names"  # the user query's column of permissions


class _PermissionNames(Expression):
    """The user's permissions as "app_label.codename" joined by commas (every one for a
    superuser; NULL for none), read by a subquery of the user's own query. Neither part of a
    name can hold a comma: an app label and a codename are Python identifiers."""

    output_field = TextField()

    def as_sql(self, compiler, connection):
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotSupportedError(
                f"the permissions subquery is PostgreSQL's and SQLite's, not {connection.vendor}"
            )
        q = connection.ops.quote_name
        users = get_user_model()._meta
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        user, superuser = f"{table}.{q(users.pk.column)}", f"{table}.{q('is_superuser')}"
        own, groups = users.get_field("user_permissions"), users.get_field("groups")
        granted = Group._meta.get_field("permissions")
        own_table, own_user, own_perm = (
            q(own.m2m_db_table()),
            q(own.m2m_column_name()),
            q(own.m2m_reverse_name()),
        )
        granted_table, granted_group, granted_perm = (
            q(granted.m2m_db_table()),
            q(granted.m2m_column_name()),
            q(granted.m2m_reverse_name()),
        )
        member_table, member_user, member_group = (
            q(groups.m2m_db_table()),
            q(groups.m2m_column_name()),
            q(groups.m2m_reverse_name()),
        )
        perm, ct = q(Permission._meta.db_table), q(ContentType._meta.db_table)
        name = f"{ct}.{q('app_label')} || '.' || {perm}.{q('codename')}"
        joined = (
            f"STRING_AGG({name}, ',')" if connection.vendor == "postgresql" else f"GROUP_CONCAT({name}, ',')"
        )
        # Only quoted names of the models' own tables and columns go into the string.
        sql = (
            f"(SELECT {joined} FROM {perm} JOIN {ct} ON {ct}.{q('id')} = {perm}.{q('content_type_id')}"  # noqa: S608
            f" WHERE {superuser}"
            f" OR {perm}.{q('id')} IN (SELECT {own_perm} FROM {own_table} WHERE {own_user} = {user})"
            f" OR {perm}.{q('id')} IN (SELECT g.{granted_perm} FROM {granted_table} g"
            f" JOIN {member_table} m ON m.{member_group} = g.{granted_group} WHERE m.{member_user} = {user}))"
        )
        return sql, []


@cache
def _user_by_pk() -> OneRow:
    users = get_user_model()._default_manager
    return OneRow(
        users.model, lambda pk: users.filter(pk=pk).annotate(**{_PERMISSIONS: _PermissionNames()}), _ANY_USER
    )


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
