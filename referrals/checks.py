"""Refuse to start with a leaver policy no code knows (docs/deployment.md, "Leavers and joiners")."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def leaver_policy(app_configs=None, **kwargs):
    from .models import LeaverPolicy

    value = getattr(settings, "REFERRAL_LEAVER_POLICY", LeaverPolicy.NEXT_RUN)
    if value in LeaverPolicy.values:
        return []
    return [
        Error(
            f"REFERRAL_LEAVER_POLICY is {value!r}.",
            hint=f"Use one of {', '.join(LeaverPolicy.values)}.",
            id="referrals.E001",
        )
    ]
