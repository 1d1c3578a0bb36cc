"""Who must use a second factor, and whether this session has.

The requirement follows permissions, not names: superusers, and anyone holding a permission
an app declared sensitive (``require_second_factor`` from its ``AppConfig.ready()``, e.g.
withdrawing referral money). A user who gains such a permission is asked at their next request.
"""

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.mfa.utils import is_mfa_enabled

_permissions: set[str] = set()


def require_second_factor(*permissions: str) -> None:
    """``"app_label.codename"`` permissions whose holders must prove a second factor."""
    _permissions.update(permissions)


def sensitive_permissions() -> frozenset[str]:
    return frozenset(_permissions)


def needs_second_factor(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or any(user.has_perm(p) for p in _permissions)


def enrolled(user) -> bool:
    return is_mfa_enabled(user)


def proven(request) -> bool:
    """This session's sign-in included a second factor (allauth records each step)."""
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, request.user))


def record(request, user, method: str, **extra) -> None:
    """Note a step of this session's sign-in the way allauth notes its own."""
    record_authentication(request, user, method, **extra)
