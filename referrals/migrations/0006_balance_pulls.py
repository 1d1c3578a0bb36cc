"""Balance pulls spread over every minute, stalest first (referrals.pulls): the default
schedule runs every minute instead of every 30 minutes, unless staff changed it."""

from django.conf import settings
from django.db import migrations, models

NAME = "Referrals: pull balances from Feishu"


def every(minutes_from: int, minutes_to: int):
    def move(apps, schema_editor):
        interval = apps.get_model("django_celery_beat", "IntervalSchedule")
        task = apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
            name=NAME, interval__every=minutes_from, interval__period="minutes"
        )
        new, _ = interval.objects.get_or_create(every=minutes_to, period="minutes")
        task.update(interval=new)

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0005_default_schedules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referralaccount",
            name="pull_claimed_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(
                condition=models.Q(("account_id__isnull", False)),
                fields=["balance_synced_at"],
                name="account_balance_age_idx",
            ),
        ),
        migrations.RunPython(every(30, 1), every(1, 30)),
    ]
