"""The partner API's lists (``/api/v1/bindings``, ``/api/v1/customers``) walk rows in
(updated_at, id) order and filter by ``updated_after``: customers get an ``updated_at`` (existing
rows take the migration's time, one constant default: no table rewrite), and both tables an
index in that order (the bindings' also under their status filter)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bindings", "0012_name_bigram_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="vendorcustomer",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="updated at"),
        ),
        migrations.AddIndex(
            model_name="ecoaccountbinding",
            index=models.Index(fields=["updated_at", "id"], name="binding_sync_idx"),
        ),
        migrations.AddIndex(
            model_name="ecoaccountbinding",
            index=models.Index(fields=["status", "updated_at", "id"], name="binding_status_sync_idx"),
        ),
        migrations.AddIndex(
            model_name="vendorcustomer",
            index=models.Index(fields=["updated_at", "id"], name="customer_sync_idx"),
        ),
    ]
