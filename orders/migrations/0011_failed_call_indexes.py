"""The failed order writes and catalogue pushes, by when they closed: the status page's
"failed in the last 24 hours" reads the day's failures, not every failure ever
(hireops.ops.health). Partial indexes: failures are few."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bindings", "0012_name_bigram_indexes"),
        ("orders", "0010_candidate_bigram_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="cataloguepush",
            index=models.Index(
                condition=models.Q(("status", "failed")), fields=["finished_at"], name="push_failed_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="orderwrite",
            index=models.Index(
                condition=models.Q(("status", "failed")), fields=["finished_at"], name="write_failed_idx"
            ),
        ),
    ]
