"""The inbox table carries the indexes its queries use and no others: each costs every stored
event (migration 0009 dropped five that nothing read)."""

import re

import pytest
from django.db import connection

from hireops.events.models import FeishuEvent

pytestmark = pytest.mark.django_db


def test_the_inbox_has_no_index_that_no_query_uses():
    if connection.vendor != "postgresql":
        pytest.skip("the _like indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [FeishuEvent._meta.db_table])
        definitions = [row[0] for row in cursor.fetchall()]
    assert not [d for d in definitions if "varchar_pattern_ops" in d]  # no LIKE 'x%' is asked
    columns = [re.search(r"USING \w+ \((.*?)\)(?: WHERE |$)", d)[1] for d in definitions]  # type: ignore[index]
    single = {c for c in columns if "," not in c}
    # event_type's equality and order: event_type_recent_idx; event_id: its unique index.
    assert single == {"id", "event_id", "account_id", "tenant_key", "received_at"}
    assert len(definitions) == 9
