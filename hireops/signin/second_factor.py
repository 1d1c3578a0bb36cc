"""Who must use a second factor, and whether this session has (and lately).

The requirement follows permissions, not names: superusers, and anyone holding a permission
an app declared sensitive (``require_second_factor`` from its ``AppConfig.ready()``, e.g.
withdrawing referral money). A user who gains such a permission is asked at their next request.

Some of those permissions move money (``money=True``: withdrawing, approving a payout run,
importing rewards). Until its holder has a second factor such a permission does nothing: the
admin opens for them only once they enrolled, and the services that move money ask
``may_move_money`` whoever calls them (a page, a background job, a future API).

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
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext, gettext_noop

# Change-history message (hireops.core.audit), on the user reset, translated when read.
FACTORS_RESET = gettext_noop("Reset two-factor authentication")

_permissions: set[str] = set()
_money: set[str] = set()


def require_second_factor(*permissions: str, money: bool = False) -> None:
    """``"app_label.codename"`` permissions whose holders must prove a second factor;
    ``money=True``: they move money, and do nothing until their holder enrolled."""
    _permissions.update(permissions)
    if money:
        _money.update(permissions)


def sensitive_permissions() -> frozenset[str]:
    return frozenset(_permissions)


def money_permissions() -> frozenset[str]:
    return frozenset(_money)


def may_move_money(user, permission: str) -> bool:
    """Whether ``user`` may use ``permission`` (one declared with ``money=True``): they hold
    it and have a second factor. The gate of every service that moves money."""
    if permission not in _money:
        raise ValueError(f"{permission} is not declared a money permission (require_second_factor)")
    return bool(user is not None and user.is_authenticated and user.has_perm(permission) and enrolled(user))


def money_refusal(user, permission: str) -> str | None:
    """Why ``user`` may not use the money permission ``permission`` (for a refusal they read),
    or None when they may."""
    if may_move_money(user, permission):
        return None
    if user is None or not user.is_authenticated or not user.has_perm(permission):
        return gettext("You do not hold the permission this needs.")
    return gettext(
        "Set up your second factor first: until you have one, a permission that moves money does "
        "nothing. Sign in with Feishu, or open the enrolment link an administrator gives you."
    )


def _declared(permissions) -> Q:
    query = Q(pk__in=[])
    for perm in permissions:
        app_label, codename = perm.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def holds_money_permission() -> Q:
    """A condition on the user table: active users who hold a money permission, as a superuser,
    through a group or given directly, so a list of thousands of users is filtered and
    annotated in its one query. Uncorrelated ``IN`` subqueries, each hashed once: as
    correlated EXISTS, PostgreSQL priced the filter so high that it compiled it (JIT) first,
    539 ms for 50,000 users against 36 ms."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user_model = get_user_model()
    money = Permission.objects.filter(_declared(_money))
    direct = user_model.user_permissions.through.objects.filter(permission__in=money).values("user_id")
    grouped = user_model.groups.through.objects.filter(group__permissions__in=money).values("user_id")
    return Q(is_active=True) & (Q(is_superuser=True) | Q(pk__in=direct) | Q(pk__in=grouped))


def has_a_factor() -> Exists:
    """A condition on the user table: they have a second factor (recovery codes alone aside)."""
    from allauth.mfa.models import Authenticator

    return Exists(
        Authenticator.objects.filter(user=OuterRef("pk")).exclude(type=Authenticator.Type.RECOVERY_CODES)
    )


def money_permissions_held(user) -> set[str]:
    """The money permissions ``user`` holds as the database has them now (not as the object in
    hand, which a form may have changed, or its permission cache): before and after a save."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    stored = get_user_model()._default_manager.filter(pk=user.pk, is_active=True)
    superuser = stored.values_list("is_superuser", flat=True).first()
    if superuser is None:  # not saved yet, or inactive
        return set()
    if superuser:
        return set(_money)
    held = Permission.objects.filter(_declared(_money)).filter(Q(user=user.pk) | Q(group__user=user.pk))
    return {f"{app}.{codename}" for app, codename in held.values_list("content_type__app_label", "codename")}


def needs_second_factor(user) -> bool:
    """Asked on every request: one look at the user's permissions (the set the backends
    cached for the request), not ``has_perm`` for each sensitive one, which walks the
    authentication backends anew every time."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or not _permissions.isdisjoint(user.get_all_permissions())


def enrolled(user) -> bool:
    return is_mfa_enabled(user)


def reset(user, by) -> bool:
    """Remove every second factor ``user`` has, as ``by`` (an administrator): in the change
    history, and told to the operators (``changes``, on each factor). False: they had none."""
    from allauth.mfa.models import Authenticator

    from hireops.core import audit

    with transaction.atomic():
        if not Authenticator.objects.filter(user=user).delete()[0]:
            return False
        audit.record(by, [user], FACTORS_RESET)
    return True


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
    admin opens (with a Feishu sign-in or an enrolment link, hireops.signin.enrolment)."""
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY)
    if isinstance(records, list):
        request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [r for r in records if r.get("method") != "mfa"]


def record(request, user, method: str, **extra) -> None:
    """Note a step of this session's sign-in the way allauth notes its own."""
    record_authentication(request, user, method, **extra)
