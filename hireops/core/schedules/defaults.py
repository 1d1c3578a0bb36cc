"""For the migrations of earlier releases, which created the default periodic tasks: schedules
are declared in code now (``hireops.core.schedules.registry.register_schedule``), and the rows these
migrations made are adopted after migrate. Do not use it for a new schedule.

Each schedule is looked up by name, so a migration that runs on a database where the
schedule exists already (created by an earlier release, perhaps edited since) leaves it as
it is.
"""

from django.conf import settings
from django.db import migrations


def default_schedules(intervals=(), crontabs=()) -> migrations.RunPython:
    """``intervals``: (name, task, every, period); ``crontabs``: (name, task, minute, hour)."""

    def create(apps, schema_editor):
        interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
        crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
        task_model = apps.get_model("django_celery_beat", "PeriodicTask")
        for name, task, every, period in intervals:
            interval, _ = interval_model.objects.get_or_create(every=every, period=period)
            task_model.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
        for name, task, minute, hour in crontabs:
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
        names = [name for name, *_ in [*intervals, *crontabs]]
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()

    return migrations.RunPython(create, remove)
