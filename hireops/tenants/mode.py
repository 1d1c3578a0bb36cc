"""Which kind of Feishu app this deployment is: settings alone decide (``FEISHU_APP_TYPE``)."""

from django.conf import settings

from hireops.feishu.auth import STORE


def store_app() -> bool:
    """A store app (many customer tenants, each called with its own token); else a self-built
    app, whose one tenant is its own company (rows record it as "")."""
    return settings.FEISHU_APP_TYPE == STORE
