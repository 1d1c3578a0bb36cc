"""(PostgreSQL) Bigram indexes on the candidates' names: a search for two or three Chinese
characters, which no trigram serves, reads the matching orders instead of the whole table."""

from django.db import migrations

from hireops.core.search.trigram import bigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0009_outbound_engine"),
    ]

    operations = [
        bigram_index("orders_backgroundcheck", "candidate_name", "check_candidate_bigram_idx"),
        bigram_index("orders_exam", "candidate_name", "exam_candidate_bigram_idx"),
    ]
