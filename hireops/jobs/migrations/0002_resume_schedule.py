"""The schedule that resumes background jobs a lost worker or a down broker left behind."""

from django.db import migrations

from hireops.core.schedules.defaults import default_schedules


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [
        default_schedules(
            intervals=[("Background jobs: resume the ones that stopped moving", "jobs.resume", 1, "minutes")]
        )
    ]
