"""Indexes behind the event log's pages at a million events: newest first within a status, within
a role's event types, and the failed events of each type."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_visibility_by_app"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="feishuevent",
            index=models.Index(fields=["status", "-received_at"], name="event_status_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="feishuevent",
            index=models.Index(fields=["event_type", "-received_at"], name="event_type_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="feishuevent",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["event_type", "-received_at"],
                name="event_failed_idx",
            ),
        ),
    ]
