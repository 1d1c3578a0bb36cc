"""The migration that gives endpoints their owner: an endpoint made through the API (recorded
as made by its key's user) belongs to that key afterwards, one made by staff to nobody, and one
whose key was revoked is disabled, saying why."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("webhooks", "0001_initial"), ("api", "0002_idempotent_request_names")]


@pytest.mark.django_db(transaction=True)
def test_endpoints_made_through_the_api_belong_to_their_key(django_user_model):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        user_model = old.get_model("auth", "User")
        key_model, endpoint_model = (
            old.get_model("api", "ApiKey"),
            old.get_model("webhooks", "WebhookEndpoint"),
        )
        staff = user_model.objects.create(username="staff")
        keys = {}
        for name, revoked in (("live", None), ("gone", timezone.now())):
            actor = user_model.objects.create(username=f"api-key:hko_{name}")
            keys[name] = key_model.objects.create(
                name=name, prefix=f"hko_{name}", secret_hash=name * 8, actor=actor, revoked_at=revoked
            )
        made = {
            name: endpoint_model.objects.create(url=f"https://{name}.example/", secret="-", created_by=by)
            for name, by in (("live", keys["live"].actor), ("gone", keys["gone"].actor), ("staff", staff))
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())  # every migration, as the test began

    from hireops.webhooks.models import WebhookEndpoint

    live, gone, by_staff = (WebhookEndpoint.objects.get(pk=made[n].pk) for n in ("live", "gone", "staff"))
    assert (live.owner_key_id, live.enabled) == (keys["live"].pk, True)
    assert gone.owner_key_id == keys["gone"].pk and not gone.enabled
    assert "hko_gone" in str(gone.disabled_reason) and "revoked" in str(gone.disabled_reason)
    assert by_staff.owner_key_id is None and by_staff.enabled
