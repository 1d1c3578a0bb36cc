"""Django's ``ModelBackend``, with the signed-in user and their permissions in one statement.

Every admin page asks for the user's permissions (the site's menu, each model's buttons and
actions, the second-factor middleware): ``ModelBackend`` reads the user, then their own
permissions and their groups' in two more queries. Here the user's query (compiled once:
compiling costs the ORM more than the database costs to run it) brings the union as a column
of its own, a subquery built by the ORM from the same relations ``ModelBackend`` follows: every
page's user and permissions in one statement, read afresh on each request as before (a
permission taken away is gone at the next page). The union is kept on the user object for the
request under a name of our own (``PERMISSIONS``), through the backend API Django documents
(``get_user``, ``get_all_permissions``), never through ``ModelBackend``'s private cache: every
backend that answers permissions here (this one and the sign-in backend below) reads it there.
Signing in, ``has_perm`` and the per-kind reads (``get_user_permissions``,
``get_group_permissions``) are ``ModelBackend``'s, unchanged.
"""

from functools import cache

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import NotSupportedError
from django.db.models import Exists, F, Func, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Exact

from ..compiled import OneRow

_ANY_USER = -1  # compiled in place of the user's id, then given as the parameter
_PERMISSIONS = "_permission_names"  # the user query's column of permissions
# The request's union of permissions, on the user object (as ``ModelBackend`` keeps its own).
PERMISSIONS = "hireops_permissions"


class ModelBackendInOneQuery(ModelBackend):
    def get_user(self, user_id):
        """``ModelBackend.get_user``: the user, if there is one and may sign in, with their
        permissions read in the same statement (kept for the request)."""
        user = _user_by_pk().get(user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        setattr(user, PERMISSIONS, _names(user.__dict__.pop(_PERMISSIONS)))
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """A user not loaded by ``get_user`` (signing in, a test's own query): the same
        statement, for their row as stored."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, PERMISSIONS):
            stored = _user_by_pk().get(user_obj.pk)
            setattr(user_obj, PERMISSIONS, set() if stored is None else _names(getattr(stored, _PERMISSIONS)))
        permissions: set[str] = getattr(user_obj, PERMISSIONS)
        return permissions


class SignInBackend(AuthenticationBackend, ModelBackendInOneQuery):
    """allauth's backend (its sign-in by username, and what its flows sign in with), reading
    the user and their permissions as the backend above does: a user signed in through it is
    loaded by ``get_user`` with their permissions in the same statement, and its answers about
    permissions come from the same union for the request, not from a second reading."""


def _names(joined: str | None) -> set[str]:
    """Neither part of "app_label.codename" can hold a comma: both are Python identifiers."""
    return set(joined.split(",")) if joined else set()


class _JoinedByCommas(Func):
    """Every row's text joined by commas, NULL for none. A ``Func``, not an ``Aggregate``, so
    that the ORM adds no GROUP BY: the subquery folds all its rows into one value."""

    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    # The compiler calls it with the compiler and the connection alone; the function is its own.
    def as_sql(self, compiler, connection, **extra):  # type: ignore[override]
        if connection.vendor != "postgresql":
            raise NotSupportedError(
                f"the permissions subquery is PostgreSQL's and SQLite's, not {connection.vendor}"
            )
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def _permissions_of_the_outer_user() -> Subquery:
    """ModelBackend's rule, for the user row of the enclosing query: their own permissions and
    their groups', every one for a superuser, as "app_label.codename" joined by commas. Each
    permission is asked whether a link to the user exists (rather than whether it is in the
    list of the user's links): SQLite then looks each one up by the links' unique index
    instead of reading the user's lists again for every permission (4.4 → 0.25 ms a page),
    and PostgreSQL plans both alike."""
    users = get_user_model()._meta
    user = OuterRef(OuterRef("pk"))
    own_field, groups = users.get_field("user_permissions"), users.get_field("groups")
    own_links = own_field.remote_field.through
    assert own_links is not None  # a many-to-many field's table, Django's or the project's
    # The rows of a many-to-many table linking the permission to the user.
    own = own_links._default_manager.filter(
        **{own_field.m2m_reverse_field_name(): OuterRef("pk"), own_field.m2m_field_name(): user}
    )
    via_groups = Group.permissions.through.objects.filter(
        permission=OuterRef("pk"), **{f"group__{groups.related_query_name()}": user}
    )
    theirs = (
        Permission.objects.order_by()
        .filter(Q(Exact(OuterRef("is_superuser"), True)) | Exists(own) | Exists(via_groups))
        .values(names=_JoinedByCommas(Concat(F("content_type__app_label"), Value("."), F("codename"))))
    )
    return Subquery(theirs, output_field=TextField())


@cache
def _user_by_pk() -> OneRow:
    users = get_user_model()._default_manager
    return OneRow(
        users.model,
        lambda pk: users.filter(pk=pk).annotate(**{_PERMISSIONS: _permissions_of_the_outer_user()}),
        _ANY_USER,
    )
