"""Who must use a second factor, and whether this session has (and lately).

The requirement follows permissions, not names: superusers, and anyone holding a permission
an app declared sensitive (``require_second_factor`` from its ``AppConfig.ready()``, e.g.
withdrawing referral money). A user who gains such a permission is asked at their next request.

Proving a factor once opens hireops for the session (``proven``). What changes how someone
signs in (an authenticator added or removed, recovery codes seen or made, a password or an
email changed) needs it proven within the last ACCOUNT_REAUTHENTICATION_TIMEOUT seconds
(``fresh``) by whoever has a factor: a password, typed minutes ago or not, is never enough.
"""

import time

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
    record_authentication,
)
from allauth.core.exceptions import ReauthenticationRequired
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


def _factor_records(request) -> list[dict]:
    return [r for r in get_authentication_records(request, request.user) if r.get("method") == "mfa"]


def proven(request) -> bool:
    """This session's sign-in included a second factor (allauth records each step)."""
    return bool(_factor_records(request))


def fresh(request) -> bool:
    """A second factor was proven in this session within the reauthentication window."""
    since = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
    return any(r.get("at", 0) > since for r in _factor_records(request))


def require_fresh(request) -> None:
    """Stop here unless the signed-in user has no factor yet or proved theirs minutes ago.
    allauth's middleware turns the exception into its second-factor step, keeps a POST and
    replays it once the code is right."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and enrolled(user) and not fresh(request):
        raise ReauthenticationRequired()


def forget_proof(request) -> None:
    """The session's proof of a factor the user no longer has: they enrol again before the
    admin opens (and a password, not the removed factor, confirms that enrolment)."""
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY)
    if isinstance(records, list):
        request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [r for r in records if r.get("method") != "mfa"]


def record(request, user, method: str, **extra) -> None:
    """Note a step of this session's sign-in the way allauth notes its own."""
    record_authentication(request, user, method, **extra)
