"""The ingest benchmarks' inbox as each measurement starts (bench/inbox_state.py): exactly the
rows asked for, whatever earlier measurements stored, on today's schema (a NOT NULL column added
to the inbox breaks its seed here, not for the next person to measure)."""

import pytest
from django.db import connection
from django.utils import timezone

from bench import inbox_state
from hireops.events.models import EventStatus, FeishuEvent

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmarks measure PostgreSQL"),
    pytest.mark.django_db(transaction=True),  # VACUUM and CHECKPOINT run outside a transaction
]


def stored_by_a_measurement(n: int) -> None:
    FeishuEvent.objects.bulk_create(
        FeishuEvent(
            event_id=f"measured-{i}",
            schema="2.0",
            event_type="hire.eco_account.created_v1",
            payload={"schema": "2.0"},
            received_at=timezone.now(),
            status=EventStatus.PENDING,
        )
        for i in range(n)
    )


def test_each_measurement_starts_with_exactly_the_seeded_rows():
    said = []
    inbox_state.prepare(30, out=said.append)
    assert FeishuEvent.objects.count() == 30 and "30 rows" in said[0]
    assert set(FeishuEvent.objects.values_list("app_id", flat=True)) == {inbox_state.SEED_APP_ID}
    assert FeishuEvent.objects.values("event_id").distinct().count() == 30

    stored_by_a_measurement(12)
    inbox_state.prepare(30, out=said.append)
    assert FeishuEvent.objects.count() == 30
    assert not FeishuEvent.objects.filter(event_id__startswith="measured-").exists()

    inbox_state.prepare(45, out=said.append)  # topped up: the first 30 kept, 15 added
    assert FeishuEvent.objects.count() == 45
    inbox_state.prepare(10, out=said.append)
    assert FeishuEvent.objects.count() == 10

    stored_by_a_measurement(5)
    inbox_state.prepare(0, out=said.append)
    assert FeishuEvent.objects.count() == 0
