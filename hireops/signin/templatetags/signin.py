from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("signin/feishu_button.html", takes_context=True)
def feishu_sign_in(context, next_url=""):
    """The "Sign in with Feishu" button, when sign-in with Feishu is set up (FEISHU_LOGIN_TENANTS)."""
    return {
        "enabled": bool(settings.FEISHU_LOGIN_TENANTS and settings.FEISHU_LOGIN_APP_ID),
        "next": next_url,
        "password_login": settings.PASSWORD_LOGIN,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
