"""(PostgreSQL) The bigram function priced as it costs (``hireops.core.search.trigram.BIGRAMS_COST``),
in databases that created it before: so the planner reads the rows the bigram index finds
instead of computing the function for every row of a list it walks in order."""

from django.db import migrations

from hireops.core.search.trigram import price_bigrams


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0016_name_bigram_index"),
    ]

    operations = [price_bigrams()]
