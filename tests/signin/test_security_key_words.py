"""allauth's security-key pages in the reader's language: the name field it leaves unlabelled
(Django would call it "Name") and the "Not used." its list hard-codes in English."""

import pytest
from allauth.mfa.models import Authenticator

from .test_every_page import with_code

pytestmark = pytest.mark.django_db


def test_the_security_key_pages_speak_chinese(client, root):
    with_code(client, root)  # the pages ask for a factor proved minutes ago
    add = client.get("/accounts/2fa/webauthn/add/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "安全密钥名称" in add and ">Name" not in add

    key = Authenticator.objects.create(
        user=root, type=Authenticator.Type.WEBAUTHN, data={"name": "办公室的密钥", "credential": {}}
    )
    listed = client.get("/accounts/2fa/webauthn/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "办公室的密钥" in listed and "从未使用" in listed and "Not used" not in listed

    edit = client.get(
        f"/accounts/2fa/webauthn/keys/{key.pk}/edit/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "安全密钥名称" in edit and ">Name" not in edit
