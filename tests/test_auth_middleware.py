"""Each permission question is put to the backends once a request, and answered as Django
answers it (hireops.core.auth.middleware)."""

from collections import Counter

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import AnonymousUser, Permission
from django.test import RequestFactory, override_settings

from hireops.core.auth.middleware import AuthenticationMiddleware, remembering_permissions

pytestmark = pytest.mark.django_db

ASKED = Counter()


class CountingBackend(BaseBackend):
    """Last in line, so asked what no other backend grants; grants nothing, counts."""

    def has_perm(self, user_obj, perm, obj=None):
        ASKED["perm", perm, obj] += 1
        return False

    def has_module_perms(self, user_obj, app_label):
        ASKED["module", app_label] += 1
        return False


@pytest.fixture
def counting():
    """The questions the next request asks, its sidebar's too (not kept from an earlier page)."""
    admin.site.forget_app_lists()
    ASKED.clear()
    backends = [*settings.AUTHENTICATION_BACKENDS, f"{__name__}.CountingBackend"]
    with override_settings(AUTHENTICATION_BACKENDS=backends):
        yield ASKED


def test_it_stands_in_for_djangos():
    assert "hireops.core.auth.middleware.AuthenticationMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.auth.middleware.AuthenticationMiddleware" not in settings.MIDDLEWARE


def test_an_admin_page_asks_each_question_once(client, staff_user, counting):
    client.force_login(staff_user("HR"))
    assert client.get("/admin/referrals/referralaccount/").status_code == 200
    assert len(counting) > 15  # what HR may not do, among the sidebar's questions alone
    assert max(counting.values()) == 1, [key for key, n in counting.items() if n > 1]


DJANGOS = [
    m.replace("hireops.core.auth.middleware", "django.contrib.auth.middleware") for m in settings.MIDDLEWARE
]


@override_settings(MIDDLEWARE=DJANGOS)
def test_without_it_a_page_asks_again(client, staff_user, counting):
    client.force_login(staff_user("HR"))
    assert client.get("/admin/referrals/referralaccount/").status_code == 200
    assert max(counting.values()) > 1


def test_the_answers_are_djangos(staff_user, django_user_model):
    user = staff_user("HR")
    remembered = remembering_permissions(django_user_model.objects.get(pk=user.pk))
    plain = django_user_model.objects.get(pk=user.pk)
    perms = [
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    ]
    for perm in [*perms, "referrals.no_such_permission", *perms]:  # twice: the second from memory
        assert remembered.has_perm(perm) == plain.has_perm(perm), perm
    assert any(remembered.has_perm(p) for p in perms) and not all(remembered.has_perm(p) for p in perms)
    for app_label in {p.split(".")[0] for p in perms}:
        assert remembered.has_module_perms(app_label) == plain.has_module_perms(app_label)
    assert remembered.has_perms(perms[:2]) == plain.has_perms(perms[:2])


def test_a_question_about_one_object_is_asked_every_time(staff_user, counting):
    user = remembering_permissions(staff_user("HR"))
    for _ in range(2):
        assert not user.has_perm("referrals.no_such_permission", obj=user)
    assert counting["perm", "referrals.no_such_permission", user] == 2


def test_a_permission_given_counts_from_the_next_request(client, staff_user):
    user = staff_user("Vendor operations")
    client.force_login(user)
    assert client.get("/admin/referrals/referralaccount/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_referralaccount"))
    assert client.get("/admin/referrals/referralaccount/").status_code == 200


def test_an_anonymous_visitor_is_left_as_it_is():
    request = RequestFactory().get("/")
    request.session = {}
    AuthenticationMiddleware(lambda r: None).process_request(request)
    assert request.user.is_anonymous
    assert not request.user.has_perm("referrals.view_referralaccount")
    assert "has_perm" not in vars(remembering_permissions(AnonymousUser()))
