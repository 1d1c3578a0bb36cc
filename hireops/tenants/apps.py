from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "hireops.tenants"
    label = "tenants"
    verbose_name = _("Customer tenants")

    def ready(self):
        from hireops.core.admin.dashboard import add_panel
        from hireops.core.auth import roles
        from hireops.feishu import hooks

        from .gate import tenant_gate

        hooks.set_tenant_gate(tenant_gate)  # no call goes to a tenant that stopped the app

        from django.utils.module_loading import autodiscover_modules

        from hireops.core import discovery

        # The tenants page's columns: every app's tenant_columns.py, imported on first use
        # (hireops.tenants.overview).
        discovery.provide("tenant_columns", lambda: autodiscover_modules("tenant_columns"))

        from .attention import by_tenant

        # Its lifecycle events (app_open, …) are registered by hireops.events, above it.
        add_panel(
            lambda request, items: dict(zip(("tenants", "more_tenants"), by_tenant(items), strict=True))
        )
        perms = roles.model_permissions
        roles.grant(
            roles.VENDOR_OPS,
            *perms("tenants.tenant", "view", "change"),  # change: name it, ask Feishu for its name
            *perms("tenants.tenantstatuschange", "view"),
            *perms("tenants.tenantnamelookup", "view"),
        )
        roles.grant(
            roles.HR,
            *perms("tenants.tenant", "view"),
            *perms("tenants.tenantstatuschange", "view"),
            *perms("tenants.tenantnamelookup", "view"),
        )
        roles.audit("tenants")
