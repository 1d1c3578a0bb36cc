"""Indexes behind the referral-account and withdrawal lists at 200,000 rows, the dashboard's
counts, the exact searches, and (PostgreSQL) a trigram index for searching names."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

from hireops.core.search.trigram import trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0006_balance_pulls"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(fields=["-created_at"], name="account_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(
                condition=models.Q(("pending_action", ""), _negated=True),
                fields=["pending_action"],
                name="account_pending_change_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(
                django.db.models.functions.text.Upper("email"), name="account_email_upper_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(fields=["mobile_number"], name="account_mobile_idx"),
        ),
        migrations.AddIndex(
            model_name="withdrawal",
            index=models.Index(fields=["-requested_at"], name="withdrawal_recent_idx"),
        ),
        trigram_index("referrals_referralaccount", "name", "account_name_trgm_idx"),
    ]
