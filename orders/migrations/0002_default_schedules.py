"""The vendor orders' default schedule: writes whose task was lost are sent again."""

from django.db import migrations

from hireops.core.schedules.defaults import default_schedules


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_orders"), ("core", "0001_default_schedules")]
    operations = [
        default_schedules(
            intervals=[("Orders: send writes whose task was lost", "orders.resume_writes", 1, "minutes")]
        )
    ]
