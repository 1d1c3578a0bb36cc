"""The staff roles, as Django groups kept in step with the code after every migrate.

The platform names the roles; each app grants its own part from its ``AppConfig.ready()``
(``grant``), and says whether auditors see it (``audit``):

- Vendor operations: the vendor side's records and actions, its events in the event log, its
  schedules.
- HR: referral accounts and what follows from them, the referral events, their schedules.
  Withdrawing is a separate permission, given by the "HR withdrawals" group on top of HR;
  approving payout runs another, given by "HR payout approvals".
- Auditor: sees everything in the audited apps, changes nothing.
Every role follows the background jobs of its own part and sees the change history, each
only the entries about what it may view (hireops.core.admin.history). Nobody but
superusers sees mobiles and emails unmasked unless given ``core.view_personal_data``.

Permissions are only ever added to these groups, never removed, so an administrator's
additions survive the next deploy.
"""

from collections import defaultdict

from django.apps import apps as global_apps
from django.db.models import Q
from django.utils.translation import gettext_noop

# The groups' names, as stored and looked up; pages show them translated (library_names).
VENDOR_OPS = gettext_noop("Vendor operations")
HR = gettext_noop("HR")
HR_WITHDRAWALS = gettext_noop("HR withdrawals")
HR_PAYOUT_APPROVALS = gettext_noop("HR payout approvals")
AUDITOR = gettext_noop("Auditor")
STAFF_ROLES = (VENDOR_OPS, HR, HR_WITHDRAWALS, HR_PAYOUT_APPROVALS)

ALL = ("view", "add", "change", "delete")

_grants: dict[str, set[str]] = defaultdict(set)  # role → {"app_label.codename"}
_audited: set[str] = set()


def model_permissions(model: str, *actions: str) -> list[str]:
    """``model_permissions("app.model", "view", "change")`` → ``["app.view_model", "app.change_model"]``."""
    app_label, model_name = model.split(".")
    return [f"{app_label}.{action}_{model_name}" for action in actions]


def grant(role: str, *permissions: str) -> None:
    """Give ``role`` these permissions (``"app_label.codename"``), from an app's ``ready()``."""
    if role not in (*STAFF_ROLES, AUDITOR):
        raise ValueError(f"unknown role {role!r}")
    _grants[role].update(permissions)


def audit(*app_labels: str) -> None:
    """Auditors may view every model of these apps (personal data excepted)."""
    _audited.update(app_labels)


def granted() -> dict[str, set[str]]:
    return {role: set(perms) for role, perms in _grants.items()}


def _matching(perms) -> Q:
    query = Q(pk__in=[])
    for perm in perms:
        app_label, codename = perm.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def role_permissions(apps=global_apps) -> dict[str, list]:
    permission = apps.get_model("auth", "Permission")
    wanted = {role: list(permission.objects.filter(_matching(perms))) for role, perms in _grants.items()}
    wanted[AUDITOR] = list(
        permission.objects.filter(content_type__app_label__in=_audited, codename__startswith="view_").exclude(
            codename="view_personal_data"
        )
    )
    return wanted


def sync_roles(sender=None, apps=global_apps, **kwargs) -> None:
    """post_migrate receiver (runs once per app; the last run sees every permission)."""
    group = apps.get_model("auth", "Group")
    for role, perms in role_permissions(apps).items():
        g, _ = group.objects.get_or_create(name=role)
        g.permissions.add(*perms)
