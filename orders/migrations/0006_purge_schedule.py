"""The daily purge of candidates' data from orders that ended long ago (orders.purge)."""

from django.db import migrations

from hireops.core.schedules.defaults import default_schedules


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_order_usage_indexes"), ("core", "0001_default_schedules")]
    operations = [
        default_schedules(
            crontabs=[
                (
                    "Orders: purge candidates' data of orders ended long ago",
                    "orders.purge_personal_data",
                    "40",
                    "3",
                )
            ]
        )
    ]
