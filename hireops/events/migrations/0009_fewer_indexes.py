"""The inbox keeps the indexes its queries use, and no others: every event pays for each.

- ``event_type`` loses its single-column index (and PostgreSQL's ``_like`` twin):
  ``event_type_recent_idx`` (event_type, -received_at) answers its equality, IN and order.
- The ``_like`` indexes Django adds on PostgreSQL for ``event_id`` (unique), ``account_id`` and
  ``tenant_key`` (``varchar_pattern_ops``, for ``LIKE 'x%'``) go: nothing searches these by
  prefix (the admin's search is exact, ``=event_id`` / ``=account_id``; filters are exact).
  Their plain indexes, and event_id's unique one (the inbox's ON CONFLICT), stay.

Measured (docs/benchmarks.md): a 16-row batch's insert took 0.8-0.9 ms of PostgreSQL's CPU
without the five, 1.05-1.15 ms with them. Dropping an index is quick and takes no long lock.
"""

from django.db import migrations, models

TABLE = "events_feishuevent"
LIKE = {  # Django's names for them (schema_editor._create_index_name(TABLE, [column], "_like"))
    "event_id": "events_feishuevent_event_id_82279150_like",
    "account_id": "events_feishuevent_account_id_a4f6d5c7_like",
    "tenant_key": "events_feishuevent_tenant_key_30beda01_like",
}


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in LIKE.values():
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column, name in LIKE.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({column} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0008_rejected_delivery_too_deep"),
    ]

    operations = [
        migrations.AlterField(
            model_name="feishuevent",
            name="event_type",
            field=models.CharField(max_length=128, verbose_name="event type"),
        ),
        migrations.RunPython(drop_like_indexes, create_like_indexes),
    ]
