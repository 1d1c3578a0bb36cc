"""The HR side's default schedules. They were created by the platform's first migration
before; on such databases they exist already and are left as they are (looked up by name)."""

from django.db import migrations

from hireops.core.schedules.defaults import default_schedules


class Migration(migrations.Migration):
    dependencies = [("referrals", "0004_feishu_call_and_permissions"), ("core", "0001_default_schedules")]
    operations = [
        default_schedules(
            intervals=[
                (
                    "Referrals: retry pending registrations, withdrawals, status changes",
                    "referrals.sync_pending",
                    5,
                    "minutes",
                ),
                ("Referrals: pull balances from Feishu", "referrals.pull_balances", 30, "minutes"),
            ],
            crontabs=[
                ("Referrals: reconcile yesterday's withdrawals", "referrals.reconcile_yesterday", "30", "2"),
            ],
        )
    ]
