"""Catalogue pushes run on the outbound engine (hireops.outbound): every call row carries
its own lease and whether an earlier attempt may have reached Feishu, and the account's
catalogue lease is named like every other lease (renamed: data kept)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_manage_schedules_permission")]

    operations = [
        migrations.RenameField(model_name="cataloguesync", old_name="sending_until", new_name="leased_until"),
        migrations.AddField(
            model_name="cataloguepush",
            name="leased_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="being sent until"),
        ),
        migrations.AddField(
            model_name="cataloguepush",
            name="maybe_applied",
            field=models.BooleanField(default=False, verbose_name="may have reached Feishu"),
        ),
    ]
