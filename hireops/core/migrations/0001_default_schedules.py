"""Default periodic tasks. Created once; staff edit them in the admin afterwards."""

from django.conf import settings
from django.db import migrations

INTERVALS = [
    # name, task, every, period
    ("Feishu events: queue stored but unprocessed events", "events.sweep", 30, "seconds"),
    (
        "Referrals: retry pending registrations, withdrawals, status changes",
        "referrals.sync_pending",
        5,
        "minutes",
    ),
    ("Referrals: pull balances from Feishu", "referrals.pull_balances", 30, "minutes"),
]
CRONTABS = [
    # name, task, minute, hour
    ("Feishu events: prune old processed events", "events.prune", "15", "3"),
    ("Referrals: reconcile yesterday's withdrawals", "referrals.reconcile_yesterday", "30", "2"),
]


def create(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in INTERVALS:
        interval, _ = interval_model.objects.get_or_create(every=every, period=period)
        task_model.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
    for name, task, minute, hour in CRONTABS:
        crontab, _ = crontab_model.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        task_model.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def remove(apps, schema_editor):
    names = [n for n, *_ in INTERVALS + CRONTABS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
