"""(PostgreSQL) Bigram indexes on the bindings' account names and the customers' names: a search
for two or three Chinese characters, which no trigram serves, reads the matching rows instead
of the whole table."""

from django.db import migrations

from hireops.core.search.trigram import bigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("bindings", "0011_tenant_scope_lease_name"),
    ]

    operations = [
        bigram_index("bindings_ecoaccountbinding", "account_name", "binding_name_bigram_idx"),
        bigram_index("bindings_vendorcustomer", "name", "customer_name_bigram_idx"),
    ]
