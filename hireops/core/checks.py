from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def secret_key_is_not_the_dev_default(app_configs, **kwargs):
    """The embedded default key is public (it is in this repository)."""
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the built-in development key.",
                hint="Set SECRET_KEY to a long random string in the environment.",
                id="hireops.E001",
            )
        ]
    return []
