"""The platform's default periodic tasks (each app creates its own in its migrations)."""

from django.db import migrations

from hireops.core.schedules.defaults import default_schedules


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [
        default_schedules(
            intervals=[("Feishu events: queue stored but unprocessed events", "events.sweep", 30, "seconds")],
            crontabs=[("Feishu events: prune old processed events", "events.prune", "15", "3")],
        )
    ]
