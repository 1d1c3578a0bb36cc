from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hireops.core"
    label = "core"
    verbose_name = "hireops"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="hireops.core.sync_roles")
