from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hireops.core"
    label = "core"
    verbose_name = "hireops"
