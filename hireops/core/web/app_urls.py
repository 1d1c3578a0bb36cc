"""The URL patterns apps bring (``<app>/urls.py``), so the platform's urls name no app."""

from importlib.util import find_spec
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import include, path


def _project_app(config) -> bool:
    """One of this repository's apps (not a library's, not the platform's own)."""
    where = Path(config.path).resolve()
    ours = where.is_relative_to(Path(settings.BASE_DIR).resolve()) and "site-packages" not in where.parts
    return ours and not config.name.startswith("hireops")


def app_urlpatterns() -> list:
    return [
        path("", include(f"{config.name}.urls"))
        for config in apps.get_app_configs()
        if _project_app(config) and find_spec(f"{config.name}.urls")
    ]
