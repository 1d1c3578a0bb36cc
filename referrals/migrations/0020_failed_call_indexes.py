"""The failed rows of the large tables of calls to Feishu, by when they closed: the status
page's "failed in the last 24 hours" reads the day's failures, not every failure ever
(hireops.ops.health). Partial indexes: failures are few."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0019_payout_preparation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="accountregistration",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["finished_at"],
                name="registration_failed_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="accountstatuschange",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["finished_at"],
                name="status_change_failed_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="externalreferralreward",
            index=models.Index(
                condition=models.Q(("status", "failed")), fields=["finished_at"], name="reward_failed_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="payoutline",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["finished_at"],
                name="payout_line_failed_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="withdrawal",
            index=models.Index(
                condition=models.Q(("status", "failed")), fields=["finished_at"], name="withdrawal_failed_idx"
            ),
        ),
    ]
