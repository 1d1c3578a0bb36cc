"""Each list row's link keeps the list's filters exactly as Django writes it, without Django
resolving the link again for every row (hireops.core.admin.row_links)."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_urls
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import resolve, reverse

from tests.factories import a_referral_account

pytestmark = pytest.mark.django_db

FILTERS = {"q": '王芳 & "co" ?#/', "o": "1"}


def djangos_link(model_admin, request, obj) -> str:
    """The row's link as Django's items_for_result writes it with its own ChangeList."""
    opts = model_admin.opts
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=(admin.utils.quote(obj.pk),))
    return add_preserved_filters(
        {"preserved_filters": model_admin.get_preserved_filters(request), "opts": opts}, url
    )


@pytest.mark.parametrize("query", [FILTERS, {}], ids=["filtered", "unfiltered"])
def test_every_admins_row_links_are_djangos_own(rf, django_user_model, query):
    root = django_user_model.objects.create_superuser("root")
    compared = 0
    for model, model_admin in admin.site._registry.items():
        path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        request = rf.get(path, query)
        request.user, request.resolver_match = root, resolve(path)
        changelist = model_admin.get_changelist_instance(request)
        for pk in (7, "a/b 王_"):
            obj = model()
            setattr(obj, model._meta.pk.attname, pk)
            if isinstance(pk, str) and model._meta.pk.get_internal_type() not in ("CharField", "TextField"):
                continue
            ours = add_preserved_filters(
                {"preserved_filters": changelist.preserved_filters, "opts": changelist.opts},
                changelist.url_for_result(obj),
            )
            assert ours == djangos_link(model_admin, request, obj), model
            compared += 1
    assert compared >= len(admin.site._registry)
    if query:
        assert "_changelist_filters=" in ours  # the filters are kept, as Django keeps them


def test_a_filtered_list_links_its_rows_with_its_filters_and_resolves_no_url(
    client, django_user_model, monkeypatch
):
    root = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(root)
    accounts = [a_referral_account(n=n) for n in range(3)]
    resolved = []
    monkeypatch.setattr(admin_urls, "resolve", lambda url: resolved.append(url) or resolve(url))
    path = reverse("admin:referrals_referralaccount_changelist")
    response = client.get(path, {"status__exact": accounts[0].status})
    assert response.status_code == 200
    during_the_page = list(resolved)
    links = re.findall(r'<a href="([^"]+/change/\?[^"]*)"', response.content.decode())
    model_admin = admin.site._registry[type(accounts[0])]
    request = response.wsgi_request
    assert sorted(links) == sorted(
        djangos_link(model_admin, request, a).replace("&", "&amp;") for a in accounts
    )
    assert all("_changelist_filters=status__exact" in link for link in links)
    assert not [url for url in during_the_page if "/change/" in url]  # Django resolves each one
