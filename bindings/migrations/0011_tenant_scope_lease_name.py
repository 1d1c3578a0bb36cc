"""Publishes run on the outbound engine (hireops.outbound): the tenant's scope lease is
named like every other lease (renamed: data kept)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("bindings", "0010_call_lease_and_maybe_applied")]

    operations = [
        migrations.RenameField(
            model_name="tenantfieldscope", old_name="sending_until", new_name="leased_until"
        ),
    ]
