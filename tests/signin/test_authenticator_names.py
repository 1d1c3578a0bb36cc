"""allauth's authenticators read in Chinese wherever the admin names them. Their own list is not
offered (it shows secrets, hireops.signin.admin): the index has no "Authenticators" entry."""

import re

import pytest

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


def test_no_authenticator_list_in_the_admin(admin_client):
    index = admin_client.get("/admin/", **ZH).content.decode()
    assert not re.search("authenticator", index, re.I)
    assert admin_client.get("/admin/mfa/authenticator/", **ZH).status_code == 404


def test_the_permission_lists_name_authenticators_in_chinese(admin_client):
    page = admin_client.get("/admin/auth/group/add/", **ZH).content.decode()
    assert "多因素认证 | 第二验证因素 |" in page
    assert "| authenticator |" not in page
