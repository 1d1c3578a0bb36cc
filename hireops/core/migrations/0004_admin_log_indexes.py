"""Indexes on Django's admin log (django_admin_log), which holds the change history: about
110,000 entries a year. The change history lists them newest first, and the admin index's
"Recent actions" lists a user's own. The table is Django's, so the indexes come from here."""

from django.db import migrations

INDEXES = [
    ("admin_log_recent_idx", '("action_time" DESC, "id" DESC)'),
    ("admin_log_user_recent_idx", '("user_id", "action_time" DESC)'),
]


class Migration(migrations.Migration):
    dependencies = [("core", "0003_staff_access"), ("admin", "0003_logentry_add_action_flag_choices")]
    operations = [
        migrations.RunSQL(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "django_admin_log" {columns}',
            f'DROP INDEX IF EXISTS "{name}"',
        )
        for name, columns in INDEXES
    ]
