"""Who a staff member is in Feishu and which language they read hireops in
(hireops.signin.identities): what the app's messages to them in Feishu need. Their sign-in with
Feishu against the sandbox links them; each sign-in and each switch of language notes theirs."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from hireops.signin import identities
from hireops.signin.models import StaffLanguage
from tests.feishu_login import WANG_FANG, point_feishu_login_at_the_sandbox, wang_fang_as_staff

from .test_feishu_sign_in import sign_in, signed_in_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def fang(sandbox, settings, staff_user):
    point_feishu_login_at_the_sandbox(sandbox, settings, "https://testserver")
    return wang_fang_as_staff(staff_user, "HR")


def test_signing_in_with_feishu_makes_a_person_reachable_in_their_language(client, fang, settings):
    assert identities.feishu_identities([fang.pk]) == {}  # not linked yet
    assert identities.languages([fang.pk]) == {fang.pk: "en"}  # the site's (the tests': English)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert sign_in(client, WANG_FANG).status_code == 302 and signed_in_as(client) == fang
    assert identities.feishu_identities([fang.pk]) == {
        fang.pk: identities.FeishuIdentity(WANG_FANG, "demo-tenant")
    }
    assert identities.languages([fang.pk]) == {fang.pk: "zh-hans"}
    # The language switch in the admin's header: English from now on.
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert StaffLanguage.objects.get(user=fang).language == "en"
    # An open_id is the login app's: another login app's identities cannot be written to.
    settings.FEISHU_LOGIN_APP_ID = "cli_another_login_app"
    assert identities.feishu_identities([fang.pk]) == {}


def test_a_language_the_site_does_not_offer_is_not_noted(client, fang):
    client.force_login(fang)
    client.post(reverse("set_language"), {"language": "fr", "next": "/admin/"})
    identities.remember_language(fang, "klingon")
    assert not StaffLanguage.objects.exists()
    identities.remember_language(fang, "en-gb")  # a variant of one it offers
    assert StaffLanguage.objects.get(user=fang).language == "en"


def test_a_visitors_language_switch_notes_nothing(client):
    resp = client.post(reverse("set_language"), {"language": "en", "next": "/admin/login/"})
    assert resp.status_code == 302 and resp.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert not StaffLanguage.objects.exists()
