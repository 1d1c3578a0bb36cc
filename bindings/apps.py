from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BindingsConfig(AppConfig):
    name = "bindings"
    verbose_name = _("Vendor accounts and bindings")

    def ready(self):
        from hireops.core.auth import roles
        from hireops.events.registry import register_event
        from hireops.tenants.signals import tenant_installed, tenant_uninstalled

        # Partners' webhooks hear of a tenant coming and going in the transaction that records it.
        tenant_installed.connect(_announce_installed, dispatch_uid="bindings.announce_installed")
        tenant_uninstalled.connect(_announce_uninstalled, dispatch_uid="bindings.announce_uninstalled")

        register_event(
            "hire.eco_account.created_v1",
            handler="bindings.handlers.eco_account_created",
            visible_with="bindings.view_feishu_events",
            label=_("Account bound"),
        )
        perms = roles.model_permissions
        roles.grant(
            roles.VENDOR_OPS,
            *perms("bindings.customfielddefinition", *roles.ALL),
            *perms("bindings.vendorcustomer", *roles.ALL),
            *perms("bindings.customeridentifier", *roles.ALL),
            *perms("bindings.matchingrule", *roles.ALL),
            *perms("bindings.ecoaccountbinding", "view", "change"),  # bind / reject / re-match
            *perms("bindings.bindingstatuschange", "view"),
            *perms("bindings.fieldscope", "view", "publish"),
            *perms("bindings.fieldpublish", "view"),
            "bindings.view_feishu_events",
            "events.reprocess_feishuevent",
        )
        roles.audit("bindings")

        from hireops.tenants.signals import tenant_installed

        tenant_installed.connect(_publish_on_install, dispatch_uid="bindings.publish_on_install")


def _publish_on_install(sender, tenant_key: str, **kwargs) -> None:
    """A new tenant gets the vendor's current custom fields (imported here, not at start-up:
    the ingest server runs ready() too and must not load the app's code)."""
    from .publishing import publish_on_install

    publish_on_install(sender, tenant_key=tenant_key)


# Imported when a tenant comes or goes, not at start-up: the ingest server loads every app's
# AppConfig and imports nothing more of it (tests/test_house_rules.py).
def _announce_installed(sender, **kwargs):
    from .announce import tenant_installed

    tenant_installed(sender, **kwargs)


def _announce_uninstalled(sender, **kwargs):
    from .announce import tenant_uninstalled

    tenant_uninstalled(sender, **kwargs)
