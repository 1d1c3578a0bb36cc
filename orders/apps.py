from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Vendor orders")

    def ready(self):
        from hireops.core import roles
        from hireops.events.registry import register_event

        for event_type, handler in (
            ("hire.eco_background_check.created_v1", "background_check_created"),
            ("hire.eco_background_check.canceled_v1", "background_check_canceled"),
            ("hire.eco_exam.created_v1", "exam_created"),
        ):
            register_event(
                event_type, handler=f"orders.handlers.{handler}", visible_with="orders.view_order_events"
            )
        perms = roles.model_permissions
        roles.grant(
            roles.VENDOR_OPS,
            *perms("orders.backgroundcheck", "view"),
            *perms("orders.exam", "view"),
            *perms("orders.orderwrite", "view"),
            *perms("orders.reportfile", "view", "add"),
            "orders.work_backgroundcheck",
            "orders.work_exam",
            "orders.view_order_events",
        )
        roles.audit("orders")

        from bindings.signals import binding_changed

        binding_changed.connect(_follow_binding, dispatch_uid="orders.follow_binding")


def _follow_binding(sender, binding, **kwargs) -> None:
    """Orders follow their account's binding (imported here, not at start-up: the ingest
    server runs ready() too and must not load the app's code)."""
    from .intake import orders_link_binding

    orders_link_binding(sender, binding=binding)
