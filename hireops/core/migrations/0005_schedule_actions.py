"""Who changed a schedule or asked it to run now (hireops.core.schedules.registry.who_set_going).

The change history already knows who last changed each schedule before this release: each
schedule's latest change is carried over, so a person who retimed or switched on a schedule
before the upgrade stays among those who caused what it prepares next."""

import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CHANGE = 2  # django.contrib.admin.models.CHANGE
RUN_NOW = "Run now requested."  # hireops.core.admin.schedules.RUN, as the history stores it


def _run_now(message: str) -> bool:
    try:
        items = json.loads(message) if message.startswith("[") else []
    except ValueError:
        return False
    return any(isinstance(i, dict) and (i.get("hireops") or {}).get("message") == RUN_NOW for i in items)


def carry_over_last_changes(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    ScheduleAction = apps.get_model("core", "ScheduleAction")
    content_type = ContentType.objects.filter(app_label="django_celery_beat", model="periodictask").first()
    if content_type is None:
        return
    names = dict(PeriodicTask.objects.values_list("pk", "name"))
    entries = LogEntry.objects.filter(content_type=content_type, action_flag=CHANGE).order_by("-action_time")
    seen = set()
    for object_id, user_id, at, message in entries.values_list(
        "object_id", "user_id", "action_time", "change_message"
    ).iterator():
        name = names.get(int(object_id)) if str(object_id).isdigit() else None
        if name is None or name in seen or _run_now(message):
            continue
        seen.add(name)
        action = ScheduleAction.objects.create(name=name, kind="changed", user_id=user_id)
        ScheduleAction.objects.filter(pk=action.pk).update(at=at)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_admin_log_indexes"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduleAction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="schedule")),
                (
                    "kind",
                    models.CharField(
                        choices=[("changed", "changed the schedule"), ("run_now", "asked it to run now")],
                        max_length=16,
                        verbose_name="what",
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="at")),
                (
                    "user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
            ],
            options={
                "verbose_name": "schedule action",
                "verbose_name_plural": "schedule actions",
                "default_permissions": (),
                "indexes": [models.Index(fields=["name", "kind", "-at"], name="schedule_action_last_idx")],
            },
        ),
        migrations.RunPython(carry_over_last_changes, migrations.RunPython.noop),
    ]
