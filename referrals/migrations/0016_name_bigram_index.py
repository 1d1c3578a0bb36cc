"""(PostgreSQL) A bigram index on the accounts' names: a search for two or three Chinese
characters, which no trigram serves, reads the matching rows instead of the whole table."""

from django.db import migrations

from hireops.core.search.trigram import bigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0015_pulls_per_tenant"),
    ]

    operations = [
        bigram_index("referrals_referralaccount", "name", "account_name_bigram_idx"),
    ]
