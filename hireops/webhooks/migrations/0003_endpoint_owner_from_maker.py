# Its own migration, after the column's: on PostgreSQL the foreign key's index is created at
# the end of the migration that adds it, and rows updated in that same transaction leave
# pending trigger events that CREATE INDEX refuses.

import json

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone

# The msgid hireops.webhooks.retire stores (a copy: a migration never imports today's code).
KEY_REVOKED = "its API key %(prefix)s… was revoked"
KEY_EXPIRED = "its API key %(prefix)s… expired"


def owners_from_makers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """An endpoint made through the API was recorded as made by its key's user: it now belongs
    to that key, and one whose key no longer works is disabled, saying why."""
    endpoint_model = apps.get_model("webhooks", "WebhookEndpoint")
    key_model = apps.get_model("api", "ApiKey")
    now = timezone.now()
    for key in key_model.objects.filter(actor__in=endpoint_model.objects.values("created_by")):
        endpoint_model.objects.filter(created_by=key.actor_id).update(owner_key=key)
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            why = KEY_REVOKED if key.revoked_at is not None else KEY_EXPIRED
            reason = json.dumps({"msgid": why, "params": {"prefix": key.prefix}}, ensure_ascii=False)
            endpoint_model.objects.filter(owner_key=key, enabled=True).update(
                enabled=False, disabled_reason=reason
            )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_idempotent_request_names"),
        ("webhooks", "0002_endpoint_owner_key"),
    ]

    operations = [migrations.RunPython(owners_from_makers, migrations.RunPython.noop)]
