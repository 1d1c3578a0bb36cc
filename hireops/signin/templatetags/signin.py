from django import template
from django.conf import settings

from hireops.signin import second_factor

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


@register.simple_tag(takes_context=True)
def admin_opens(context) -> bool:
    """Whether the admin would open for this session now: signed in, and the second factor
    proven where the role needs one (a "Continue" link elsewhere would only lead back)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return not second_factor.needs_second_factor(user) or second_factor.proven(request)


@register.simple_tag(takes_context=True)
def signing_in(context) -> bool:
    """Whether this session is still signing in: its user has a second factor the role needs
    and has not proved it yet (allauth's reauthentication pages then serve as the code step)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not second_factor.needs_second_factor(user):
        return False
    return second_factor.enrolled(user) and not second_factor.proven(request)
