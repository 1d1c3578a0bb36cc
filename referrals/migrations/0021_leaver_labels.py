"""Leavers' labels as staff read them (no change to the table): "confirmed by HR", not by
"staff" (read as the leaver), and "Feishu open_id" for a label Django capitalised as "Open_id"."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0020_failed_call_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="leaver",
            name="match",
            field=models.CharField(
                choices=[
                    ("matched", "Matched"),
                    ("none", "No account matches"),
                    ("several", "Several accounts match"),
                    ("no_account", "No referral account (confirmed by HR)"),
                ],
                db_index=True,
                max_length=16,
                verbose_name="match",
            ),
        ),
        migrations.AlterField(
            model_name="leaver",
            name="open_id",
            field=models.CharField(max_length=128, verbose_name="Feishu open_id"),
        ),
        migrations.AlterField(
            model_name="leaver",
            name="union_id",
            field=models.CharField(blank=True, max_length=128, verbose_name="Feishu union_id"),
        ),
    ]
