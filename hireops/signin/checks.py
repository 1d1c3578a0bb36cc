from django.conf import settings
from django.core.checks import Error, register


@register()
def feishu_login(app_configs, **kwargs):
    """Sign-in with Feishu needs a self-built login app (a vendor's store app is not for its
    own staff: docs/feishu.md §16)."""
    if not settings.FEISHU_LOGIN_TENANTS:
        return []
    errors = []
    if not (settings.FEISHU_LOGIN_APP_ID and settings.FEISHU_LOGIN_APP_SECRET):
        errors.append(
            Error(
                "FEISHU_LOGIN_TENANTS is set but FEISHU_LOGIN_APP_ID / FEISHU_LOGIN_APP_SECRET are not.",
                hint="Create a self-built app for web login in Feishu (docs/deployment.md, Signing in).",
                id="hireops.E020",
            )
        )
    elif settings.FEISHU_APP_TYPE == "store" and settings.FEISHU_LOGIN_APP_ID == settings.FEISHU_APP_ID:
        errors.append(
            Error(
                "The login app is the vendor's store app: staff sign in through their company's self-built "
                "app.",
                hint="Set FEISHU_LOGIN_APP_ID and FEISHU_LOGIN_APP_SECRET to a self-built app.",
                id="hireops.E021",
            )
        )
    return errors
