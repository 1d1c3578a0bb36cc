"""The balance pull claims per tenant, stalest first within each (referrals.pulls): an index
that reads one tenant's accounts in that order."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0014_leavers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(
                condition=models.Q(("account_id__isnull", False)),
                fields=["tenant_key", "balance_synced_at", "id"],
                name="account_pull_order_idx",
            ),
        ),
    ]
