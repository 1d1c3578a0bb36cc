from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "hireops.tenants"
    label = "tenants"
    verbose_name = _("Customer tenants")

    def ready(self):
        from hireops.core import roles
        from hireops.events.registry import register_event

        # Store apps' lifecycle events (schema 1.0; docs/feishu-api-2.md §1.1). Self-built
        # apps never receive them: their one tenant is recorded from its events' tenant_key.
        for event_type in ("app_open", "app_status_change", "app_uninstalled"):
            register_event(
                event_type,
                handler="hireops.tenants.handlers.lifecycle",
                visible_with="tenants.view_tenant",
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
