"""The staff roles, as Django groups kept in step with the code after every migrate.

- Vendor operations: custom fields and publishing, vendor customers, matching rules,
  eco-account bindings, and the eco events in the event log.
- HR: referral accounts, their balances and history, reconciliation, the referral events,
  and the schedules of the balance pull and reconciliation. Withdrawing is a separate
  permission, given by the "HR withdrawals" group (see HR_WITHDRAWALS).
- Auditor: sees everything, changes nothing.
Each role also follows the background jobs of its own part (bulk actions, imports).
Every role sees the change history (who on the staff did what), each only the entries about
what it may view (hireops.core.history_admin).
Nobody but superusers sees mobiles and emails unmasked unless given
``referrals.view_personal_data`` explicitly.

Permissions are only ever added to these groups, never removed, so an administrator's
additions survive the next deploy.
"""

from django.apps import apps as global_apps

VENDOR_OPS = "Vendor operations"
HR = "HR"
HR_WITHDRAWALS = "HR withdrawals"
AUDITOR = "Auditor"

ALL = ("view", "add", "change", "delete")
# Everyone follows the background jobs of their own part (hireops.jobs.admin.visible_jobs).
JOBS = {"jobs.bulkjob": ("view",), "jobs.bulkjobitem": ("view",)}

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    VENDOR_OPS: {
        "bindings.customfielddefinition": ALL,
        "bindings.vendorcustomer": ALL,
        "bindings.customeridentifier": ALL,
        "bindings.matchingrule": ALL,
        "bindings.ecoaccountbinding": ("view", "change"),  # bind / reject / re-match actions
        "bindings.bindingstatuschange": ("view",),
        "bindings.fieldscope": ("view", "publish"),
        "bindings.fieldpublish": ("view",),
        "events.feishuevent": ("view_vendor", "reprocess"),
        **JOBS,
        "core.changehistoryentry": ("view",),
    },
    HR: {
        "referrals.referralaccount": ("view", "add", "change"),
        "referrals.accountcash": ("view",),
        "referrals.balancechange": ("view",),
        "referrals.withdrawal": ("view",),
        "referrals.reconciliationrun": ("view", "add"),
        "referrals.reconciliationmismatch": ("view",),
        "events.feishuevent": ("view_hr", "reprocess"),
        "django_celery_beat.periodictask": ("view", "change"),
        "django_celery_beat.intervalschedule": ("view", "add", "change"),
        "django_celery_beat.crontabschedule": ("view", "add", "change"),
        **JOBS,
        "core.changehistoryentry": ("view",),
    },
    HR_WITHDRAWALS: {
        "referrals.referralaccount": ("withdraw",),
        **JOBS,
    },
}
AUDITED_APPS = ("bindings", "referrals", "events", "jobs", "django_celery_beat", "core")


def _codename(action: str, model: str) -> str:
    return f"{action}_{model}"


def role_permissions(apps=global_apps) -> dict[str, list]:
    permission = apps.get_model("auth", "Permission")
    content_type = apps.get_model("contenttypes", "ContentType")
    wanted: dict[str, list] = {}
    for role, grants in ROLES.items():
        perms = []
        for label, actions in grants.items():
            app_label, model = label.split(".")
            ct = content_type.objects.filter(app_label=app_label, model=model).first()
            if ct is not None:
                codenames = [_codename(a, model) for a in actions]
                perms += list(permission.objects.filter(content_type=ct, codename__in=codenames))
        wanted[role] = perms
    wanted[AUDITOR] = list(
        permission.objects.filter(
            content_type__app_label__in=AUDITED_APPS, codename__startswith="view_"
        ).exclude(codename="view_personal_data")
    )
    return wanted


def sync_roles(sender=None, apps=global_apps, **kwargs) -> None:
    """post_migrate receiver (runs once per app; the last run sees every permission)."""
    group = apps.get_model("auth", "Group")
    for role, perms in role_permissions(apps).items():
        g, _ = group.objects.get_or_create(name=role)
        g.permissions.add(*perms)
