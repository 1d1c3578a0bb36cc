"""A store app with two installed customer tenants, against the sandbox."""

import pytest
from django.conf import settings as django_settings

from hireops.feishu import get_client, save_app_ticket
from hireops.tenants.models import Tenant
from tests.feishu.conftest import forget_tokens


@pytest.fixture
def store(settings, sandbox, tmp_path):
    """A store app installed by two customer tenants, each with one employee; the app ticket
    already delivered."""
    settings.FEISHU_APP_TYPE = "store"
    settings.FEISHU_COORDINATION_URL = f"file://{tmp_path / 'coord'}"
    client = get_client()
    forget_tokens(client)
    for key, email in (("t-acme", "li@acme.example"), ("t-globex", "wang@globex.example")):
        sandbox.add_employee(key, email=email, tenant_key=key)
        Tenant.objects.create(tenant_key=key)
    save_app_ticket(django_settings.FEISHU_APP_ID, sandbox.push_app_ticket()["event"]["app_ticket"])
    yield sandbox
    forget_tokens(client)
