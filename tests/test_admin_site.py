"""The project's admin site: each list row's selection box is Django's own; the list of apps
and models is kept per permission set."""

import pytest
from django.contrib import admin
from django.utils import translation


class Row:
    pk = 7

    def __str__(self):
        return "<b>王芳 \"Fang\" & 'co'</b>"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_admins_selection_box_is_djangos_own(language):
    """Written without its widget template it saved 6.7 % of a list page's CPU, under the tenth
    docs/internals.md asks of a copy of a library's markup: every admin writes Django's."""
    row = Row()
    with translation.override(language):
        djangos = admin.ModelAdmin.action_checkbox(None, row)
        for model, model_admin in admin.site._registry.items():
            assert type(model_admin).action_checkbox is admin.ModelAdmin.action_checkbox, model
            assert model_admin.action_checkbox(row) == djangos, model
    assert "&lt;b&gt;" in djangos and 'value="7"' in djangos  # escaped, as Django escapes it


# --- The list of apps and models, kept per permission set (AdminSite.get_app_list) ----------


def shape(app_list) -> list:
    """What the index and the sidebar show of an app list, in its order."""
    return [
        (
            str(app["name"]),
            app["app_url"],
            [
                (str(m["name"]), m["perms"], m["admin_url"], m.get("add_url"), m["view_only"])
                for m in app["models"]
            ],
        )
        for app in app_list
    ]


def request_as(rf, user):
    request = rf.get("/admin/")
    request.user = type(user).objects.get(pk=user.pk)  # as the next request loads it
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_roles_kept_app_list_is_what_a_fresh_build_gives(rf, one_user_of_each_role, language):
    users = one_user_of_each_role
    seen = set()
    with translation.override(language):
        for user in users:
            for _ in range(2):  # built, then kept
                kept = admin.site.get_app_list(request_as(rf, user))
                fresh = admin.AdminSite.get_app_list(admin.site, request_as(rf, user))
                assert shape(kept) == shape(fresh), user.username
            seen.add(repr(shape(kept)))
    assert len(seen) > 4  # the roles see different lists


@pytest.mark.django_db
def test_a_list_is_built_once_per_permission_set_and_anew_after_a_registration(rf, staff_user, monkeypatch):
    from django.contrib.auth.models import Permission

    from hireops.core.admin.site import AdminSite
    from referrals.models import ReferralAccount, Withdrawal

    builds = []
    build = admin.AdminSite._build_app_dict
    monkeypatch.setattr(admin.AdminSite, "_build_app_dict", lambda *a: builds.append(1) or build(*a))
    site = AdminSite(name="probe")
    site.register(ReferralAccount)
    first, second = staff_user("HR", username="hr-1"), staff_user("HR", username="hr-2")
    for user in (first, second, first):
        assert len(site.get_app_list(request_as(rf, user))[0]["models"]) == 1
    assert len(builds) == 1
    second.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    site.get_app_list(request_as(rf, second))
    assert len(builds) == 2

    site.register(Withdrawal)
    assert len(site.get_app_list(request_as(rf, first))[0]["models"]) == 2
    site.unregister(Withdrawal)
    assert len(site.get_app_list(request_as(rf, first))[0]["models"]) == 1
    assert len(builds) == 4


# --- "View on site" (/admin/r/<content type>/<object>/, hireops.core.admin.site.view_on_site) --


@pytest.mark.django_db
def test_view_on_site_is_a_404_for_every_content_type_and_reads_none_of_its_rows(admin_client):
    """No hireops model has a page on a site. Django's own view read the object before asking,
    and a content type with no table (StaffAccess, which holds permissions) answered 500."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hireops.core.models import StaffAccess

    def asked(path):
        with CaptureQueriesContext(connection) as queries:
            resp = admin_client.get(path)
        return resp, {q["sql"] for q in queries if "django_content_type" not in q["sql"]}

    _, signed_in = asked("/admin/r/0/1/")  # what any admin request reads: the session, the user
    types = list(ContentType.objects.all())
    assert ContentType.objects.get_for_model(StaffAccess) in types
    for content_type in types:
        resp, read = asked(f"/admin/r/{content_type.pk}/1/")
        assert resp.status_code == 404, content_type
        assert read <= signed_in, content_type  # nothing of the model's own rows
    for content_type_id in ("0", "99999999", "x", "-1"):
        assert admin_client.get(f"/admin/r/{content_type_id}/1/").status_code == 404


def test_view_on_site_still_asks_for_a_staff_sign_in(client):
    resp = client.get("/admin/r/1/1/")
    assert resp.status_code == 302 and resp["Location"].startswith("/admin/login/")
