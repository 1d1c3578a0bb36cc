"""The list of apps and models (the index, every page's sidebar) written by
hireops.core.templatetags.admin_app_list is Django's ``admin/app_list.html``, element for element."""

import re
from pathlib import Path

import django.contrib.admin
import pytest
from django.contrib import admin
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation

pytestmark = pytest.mark.django_db

DJANGOS = Path(django.contrib.admin.__file__).parent / "templates" / "admin" / "app_list.html"
PATHS = [
    "/admin/",
    "/admin/referrals/",
    "/admin/referrals/referralaccount/",
    "/admin/referrals/referralaccount/7/change/",
    "/admin/auth/user/add/",
    "/admin/events/feishuevent/?q=x",
]


def same_markup(html: str) -> str:
    """Whitespace between and just inside elements is not the page's: a table cell's, a caption's
    and a row's text start at their first character either way."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", html).strip()


def render_both(request, app_list, show_changelinks) -> tuple[str, str]:
    context = {"app_list": app_list, "show_changelinks": show_changelinks, "request": request}
    djangos = engines["django"].from_string(DJANGOS.read_text()).render(context)
    ours = render_to_string("admin/app_list.html", context)
    return same_markup(djangos), same_markup(ours)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_roles_app_list_is_djangos_in_both_places(rf, one_user_of_each_role, language):
    users = one_user_of_each_role
    compared, current = 0, 0
    with translation.override(language):
        for user in users:
            for path in PATHS:
                request = rf.get(path)
                request.user = user
                app_list = admin.site.get_app_list(request)
                for show_changelinks in (True, False):
                    djangos, ours = render_both(request, app_list, show_changelinks)
                    assert ours == djangos, (user.username, path, show_changelinks)
                    compared += 1
                    current += "current-model" in ours
    assert compared == len(users) * len(PATHS) * 2 and current > 0
    assert "aria-current" in ours or current  # the page's model is marked somewhere


def test_escaped_and_without_permission_as_django_writes_it(rf):
    request = rf.get("/admin/x%3Cy/")
    hostile = '<b>"x" & y</b>'
    app_list = [
        {
            "name": hostile,
            "app_label": "x<y",
            "app_url": "/admin/x%3Cy/",
            "models": [
                {
                    "name": hostile,
                    "object_name": "A<B",
                    "admin_url": "/admin/x%3Cy/a/",
                    "add_url": None,
                    "view_only": True,
                },
                {
                    "name": "plain",
                    "object_name": "Plain",
                    "admin_url": None,
                    "add_url": "/admin/x/plain/add/?a=1&b=2",
                },
            ],
        }
    ]
    for show_changelinks in (True, False):
        djangos, ours = render_both(request, app_list, show_changelinks)
        assert ours == djangos
    assert "&lt;b&gt;" in ours and "<b>" not in ours and "current-app" in ours
    assert render_both(request, [], True)[1] == render_both(request, [], True)[0]
