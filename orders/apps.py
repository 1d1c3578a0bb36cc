from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# A customer the catalogue's entries lean on alone is not deleted (bindings.deletion).
CUSTOMERS_KEPT_BY = "orders.catalogue.customers.entries_left_to_everyone"


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Vendor orders")

    def import_models(self):
        """The catalogue's rows belong to this app too: its models module is imported with
        orders.models, where Django looks for an app's models, without orders.models naming
        it (the catalogue reads orders' exams: that import would close a loop)."""
        super().import_models()
        from .catalogue import models  # noqa: F401

    def ready(self):
        from django.utils.translation import gettext_noop

        from hireops.core.auth import roles
        from hireops.core.schedules.registry import register_schedule
        from hireops.events.registry import register_event

        from . import (
            busiest,  # noqa: F401  (its trend, chart and the customers' signal)
            checks,  # noqa: F401  (registers them)
            failures,  # noqa: F401  (its trend, chart and the deletions' signal)
            overdue,  # noqa: F401  (its trend, chart and the catalogue's signals)
            trend,  # noqa: F401  (registers the orders' trends and chart)
            turnaround,  # noqa: F401  (its trend and charts)
        )

        for event_type, handler, label in (
            (
                "hire.eco_background_check.created_v1",
                "background_check_created",
                _("Background check ordered"),
            ),
            (
                "hire.eco_background_check.canceled_v1",
                "background_check_canceled",
                _("Background check cancelled"),
            ),
            ("hire.eco_exam.created_v1", "exam_created", _("Exam ordered")),
        ):
            register_event(
                event_type,
                handler=f"orders.handlers.{handler}",
                visible_with="orders.view_order_events",
                label=label,
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
            *perms("orders.package", "view", "add", "change", "delete"),
            *perms("orders.additionalitem", "view", "add", "change", "delete"),
            *perms("orders.formfield", "view", "add", "change", "delete"),
            *perms("orders.exampaper", "view", "add", "change", "delete"),
            *perms("orders.cataloguepush", "view"),
            *perms("orders.cataloguerollout", "view"),
            "orders.push_catalogue",
            "orders.manage_schedules",
        )
        roles.audit("orders")
        for name, task, timing in (
            (
                gettext_noop("Orders: send writes whose task was lost"),
                "orders.resume_writes",
                {"every": (1, "minutes")},
            ),
            (
                gettext_noop("Orders: resume catalogue pushes and rollouts"),
                "orders.resume_catalogues",
                {"every": (1, "minutes")},
            ),
            (
                gettext_noop("Orders: purge candidates' data of orders ended long ago"),
                "orders.purge_personal_data",
                {"crontab": "40 3 * * *"},
            ),
        ):
            register_schedule(name, task=task, managed_with="orders.manage_schedules", **timing)

        from bindings.deletion import keep_customers_when
        from bindings.signals import binding_changed

        keep_customers_when(CUSTOMERS_KEPT_BY)

        binding_changed.connect(_follow_binding, dispatch_uid="orders.follow_binding")
        # No signal follows the catalogue's entries: whoever changes them rolls the catalogue out
        # in the same transaction (orders.catalogue.services; checked at start: orders.checks).


def _follow_binding(sender, binding, **kwargs) -> None:
    """Orders follow their account's binding (imported here, not at start-up: the ingest
    server runs ready() too and must not load the app's code)."""
    from .intake import orders_link_binding

    orders_link_binding(sender, binding=binding)
    from .catalogue.pushes import push_on_bound

    push_on_bound(binding)
