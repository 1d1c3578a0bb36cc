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


def role_permissions(apps=global_apps) -> dict[str, set[int]]:
    """Each role's permissions as the database numbers them, read in one query (a role's
    codenames that have no row yet, before their app's migration, are left out)."""
    permission = apps.get_model("auth", "Permission")
    numbers: dict[str, set[int]] = defaultdict(set)  # "app_label.codename" → its rows (one a model)
    for pk, app_label, codename in permission.objects.values_list(
        "pk", "content_type__app_label", "codename"
    ):
        numbers[f"{app_label}.{codename}"].add(pk)
    wanted = {role: set().union(*(numbers.get(p, ()) for p in perms)) for role, perms in _grants.items()}
    wanted[AUDITOR] = {
        pk
        for perm, pks in numbers.items()
        for app_label, codename in [perm.split(".", 1)]
        if app_label in _audited and codename.startswith("view_") and codename != "view_personal_data"
        for pk in pks
    }
    return wanted


def sync_roles(sender=None, apps=global_apps, **kwargs) -> None:
    """post_migrate receiver (runs once per app; the last run sees every permission), and
    what a test runs before making staff: three queries when every role is complete, the
    missing groups and grants written in one statement each when not."""
    group = apps.get_model("auth", "Group")
    granted_to = group.permissions.through
    wanted = role_permissions(apps)
    groups = dict(group.objects.filter(name__in=wanted).values_list("name", "pk"))
    missing = [group(name=role) for role in wanted if role not in groups]
    if missing:
        group.objects.bulk_create(missing, ignore_conflicts=True)
        groups = dict(group.objects.filter(name__in=wanted).values_list("name", "pk"))
    held = set(
        granted_to.objects.filter(group_id__in=groups.values()).values_list("group_id", "permission_id")
    )
    rows = [
        granted_to(group_id=groups[role], permission_id=pk)
        for role, pks in wanted.items()
        for pk in sorted(pks)
        if (groups[role], pk) not in held
    ]
    granted_to.objects.bulk_create(rows, ignore_conflicts=True)
