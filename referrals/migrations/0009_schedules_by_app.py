"""HR manages the referral schedules only, through ``referrals.manage_schedules`` (granted
after migrate, hireops.core.auth.roles). Earlier releases gave the HR group django-celery-beat's own
permissions, which now mean every schedule (view_periodictask: see them all; change: manage
them all) or nothing (the interval and crontab rows are made from a schedule's page): taken
back here, once, since roles only ever add permissions."""

from django.db import migrations

HR = "HR"
BEAT_GRANTS = {
    "periodictask": ("view", "change"),
    "intervalschedule": ("view", "add", "change"),
    "crontabschedule": ("view", "add", "change"),
}


def _beat_permissions(apps):
    permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in BEAT_GRANTS.items() for action in actions]
    return permission.objects.filter(content_type__app_label="django_celery_beat", codename__in=codenames)


def take_back(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=HR).first()
    if group is not None:  # a new database: the roles are made after migrate, without them
        group.permissions.remove(*_beat_permissions(apps))


def give_back(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=HR).first()
    if group is not None:
        group.permissions.add(*_beat_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0008_tenant"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="referralaccount",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("withdraw_referralaccount", "Can withdraw referral balances"),
                    ("view_feishu_events", "Can view the referral accounts' Feishu events"),
                    ("manage_schedules", "Can switch the referral schedules on and off, retime and run them"),
                ],
                "verbose_name": "referral account",
                "verbose_name_plural": "referral accounts",
            },
        ),
        migrations.RunPython(take_back, give_back),
    ]
