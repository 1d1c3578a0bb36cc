"""The last installed app: its ``ready`` runs once every other app's has, and ends the start."""

from django.apps import AppConfig


class StartedConfig(AppConfig):
    name = "config.startup"
    label = "startup"
    verbose_name = "Start-up"

    def ready(self) -> None:
        from . import resume

        resume()
