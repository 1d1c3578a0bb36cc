"""The catalogues' default schedule: pushes and rollouts whose task was lost go on."""

from django.db import migrations

from hireops.core.schedules.defaults import default_schedules


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_catalogue"), ("core", "0001_default_schedules")]
    operations = [
        default_schedules(
            intervals=[
                ("Orders: resume catalogue pushes and rollouts", "orders.resume_catalogues", 1, "minutes")
            ]
        )
    ]
