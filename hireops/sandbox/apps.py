from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "hireops.sandbox"
    label = "sandbox"
    verbose_name = "Feishu sandbox"
