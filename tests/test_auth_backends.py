"""The permissions backend reads what Django's ModelBackend reads, in one query."""

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hireops.core.auth.backends import ModelBackendInOneQuery, SignInBackend
from hireops.signin.sessions import end_sessions

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request loads it: no permission cache."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def member(django_user_model):
    """A user with a permission of their own, and two groups' (one shared with their own)."""
    user = django_user_model.objects.create_user("member", is_staff=True)
    own, shared, other = Permission.objects.order_by("pk")[:3]
    first, second = Group.objects.create(name="first"), Group.objects.create(name="second")
    first.permissions.add(shared, other)
    second.permissions.add(shared)
    user.user_permissions.add(own, shared)
    user.groups.add(first, second)
    return user


def test_it_is_the_project_backend():
    assert "hireops.core.auth.backends.ModelBackendInOneQuery" in settings.AUTHENTICATION_BACKENDS
    assert "django.contrib.auth.backends.ModelBackend" not in settings.AUTHENTICATION_BACKENDS
    # allauth's backend answers permissions too (it is a ModelBackend): only as ours does.
    assert "hireops.core.auth.backends.SignInBackend" in settings.AUTHENTICATION_BACKENDS
    assert "allauth.account.auth_backends.AuthenticationBackend" not in settings.AUTHENTICATION_BACKENDS


def test_no_backend_leans_on_modelbackends_private_cache(member, django_user_model):
    """The union is kept under the project's own name, through the public backend API: no
    backend reads or writes ModelBackend's ``_perm_cache``, so a Django that renames it changes
    nothing here. Through every configured backend, a page's questions cost one statement."""
    for backend in (ModelBackendInOneQuery(), SignInBackend()):
        with CaptureQueriesContext(connection) as queries:
            user = backend.get_user(member.pk)
            permissions = user.get_all_permissions()  # asks every configured backend
            assert not user.has_perm("referrals.no_such_permission")  # asks every one, denied
            assert not user.has_module_perms("no_such_app")
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert permissions == ModelBackend().get_all_permissions(fresh(member))
        assert not hasattr(user, "_perm_cache"), type(backend).__name__


def test_own_and_group_permissions_in_one_query(member, django_assert_num_queries):
    expected = ModelBackend().get_all_permissions(fresh(member))
    assert len(expected) == 3
    user = fresh(member)
    with django_assert_num_queries(1):
        assert ModelBackendInOneQuery().get_all_permissions(user) == expected
        assert user.get_all_permissions() == expected  # the request's cache: no second query
        assert user.has_perm(sorted(expected)[0])
        assert not user.has_perm("referrals.no_such_permission")


def test_a_permission_taken_away_is_gone_at_the_next_request(member):
    assert len(fresh(member).get_all_permissions()) == 3
    member.user_permissions.clear()
    member.groups.get(name="first").permissions.clear()
    assert fresh(member).get_all_permissions() == ModelBackend().get_all_permissions(fresh(member))
    assert len(fresh(member).get_all_permissions()) == 1  # the second group's


def test_superuser_inactive_and_anonymous(member, django_user_model):
    root = django_user_model.objects.create_superuser("root")
    assert ModelBackendInOneQuery().get_all_permissions(root) == ModelBackend().get_all_permissions(
        fresh(root)
    )
    assert len(fresh(root).get_all_permissions()) == Permission.objects.count()
    member.is_active = False
    member.save()
    assert ModelBackendInOneQuery().get_all_permissions(fresh(member)) == set()
    assert ModelBackendInOneQuery().get_all_permissions(AnonymousUser()) == set()
    assert ModelBackendInOneQuery().get_all_permissions(fresh(root), obj=member) == set()


def test_the_signed_in_user_is_read_as_modelbackend_reads_it(member, django_user_model):
    ours, djangos = ModelBackendInOneQuery(), ModelBackend()
    user = ours.get_user(member.pk)
    expected = djangos.get_user(member.pk)
    fields = [f.attname for f in django_user_model._meta.concrete_fields]
    assert [getattr(user, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert ours.get_user(member.pk + 1000) is None
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert ours.get_user(member.pk) is djangos.get_user(member.pk) is None  # may not sign in


def test_the_signed_in_user_comes_with_their_permissions_in_the_same_statement(member, django_user_model):
    """What a page asks of the user's permissions is answered from the user's own query, and
    is what ModelBackend answers: own and groups', every one for a superuser, none at all."""
    root = django_user_model.objects.create_superuser("root")
    nobody = django_user_model.objects.create_user("nobody", is_staff=True)
    ours, djangos = ModelBackendInOneQuery(), ModelBackend()
    for someone in (member, root, nobody):
        with CaptureQueriesContext(connection) as queries:
            user = ours.get_user(someone.pk)
            permissions = user.get_all_permissions()
            assert user.has_perm("referrals.no_such_permission") is user.is_superuser
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert permissions == djangos.get_all_permissions(fresh(someone)), someone.username
    assert len(ours.get_user(member.pk).get_all_permissions()) == 3
    assert len(ours.get_user(root.pk).get_all_permissions()) == Permission.objects.count()
    assert ours.get_user(nobody.pk).get_all_permissions() == set()
    # Read afresh by each request: what is taken away is gone at the next one.
    member.groups.get(name="first").permissions.clear()
    member.user_permissions.clear()
    assert len(ours.get_user(member.pk).get_all_permissions()) == 1  # the second group's


def test_a_page_reads_no_permission_of_its_own(client, member):
    """An admin page asks the user's permissions many times (the menu, each model's buttons,
    the second factor's rule): one statement brings the user and them."""
    member.user_permissions.add(Permission.objects.get(codename="view_group"))
    client.force_login(member)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/auth/group/").status_code == 200
    users = [q["sql"] for q in queries if 'FROM "auth_user"' in q["sql"]]
    assert len(users) == 1 and "auth_permission" in users[0], users
    permission_reads = [q for q in queries if "auth_permission" in q["sql"] and q["sql"] not in users]
    assert not permission_reads, [q["sql"] for q in permission_reads]


def test_sessions_are_read_through_the_cache_and_end_everywhere(client, django_user_model):
    """cached_db: a page reads its session from the cache, not the database; ending a user's
    sessions forgets them in both places, so the next page asks to sign in."""
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    user = django_user_model.objects.create_user("someone", is_staff=True)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/password_change/").status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"]]
    assert end_sessions([user.pk]) == 1
    assert client.get("/admin/password_change/")["Location"].startswith("/admin/login/")
