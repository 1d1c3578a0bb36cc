from django.conf import settings
from django.core.checks import Warning, register


@register()
def webhook_secrets(app_configs, **kwargs):
    """Without these the webhook accepts events it cannot authenticate."""
    if settings.DEBUG:
        return []
    missing = [n for n in ("FEISHU_ENCRYPT_KEY", "FEISHU_VERIFICATION_TOKEN") if not getattr(settings, n)]
    if not missing:
        return []
    return [
        Warning(
            f"{' and '.join(missing)} not set: /feishu/events/ cannot authenticate Feishu's pushes.",
            hint="Copy them from the app's Events & Callbacks settings on the Feishu open platform.",
            id="hireops.W001",
        )
    ]
