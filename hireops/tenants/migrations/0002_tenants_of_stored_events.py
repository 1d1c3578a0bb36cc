"""The tenants of the events stored before tenants were recorded (once, at upgrade)."""

from django.db import migrations
from django.db.models import Max, Min


def tenants_of_stored_events(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    FeishuEvent = apps.get_model("events", "FeishuEvent")
    seen = (
        FeishuEvent.objects.exclude(tenant_key="")
        .values("tenant_key")
        .annotate(first=Min("received_at"), last=Max("received_at"))
        .order_by()
    )
    Tenant.objects.bulk_create(
        [
            Tenant(tenant_key=s["tenant_key"], first_seen=s["first"], last_seen=s["last"])
            for s in seen.iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial"), ("events", "0005_list_indexes")]

    operations = [migrations.RunPython(tenants_of_stored_events, migrations.RunPython.noop)]
