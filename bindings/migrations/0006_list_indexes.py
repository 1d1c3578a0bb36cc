"""Indexes behind the bindings list at 200,000 rows: the review queue's order, exact account ids,
and (PostgreSQL) trigram indexes for searching names, a GIN index for finding a custom-field value."""

from django.db import migrations, models

from hireops.core.search.trigram import jsonb_path_index, trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("bindings", "0005_feishu_call_and_event_visibility"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ecoaccountbinding",
            index=models.Index(
                models.Case(
                    models.When(status="needs_review", then=models.Value(0)),
                    default=models.Value(1),
                    output_field=models.IntegerField(),
                ),
                models.OrderBy(models.F("updated_at"), descending=True),
                name="binding_review_queue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ecoaccountbinding",
            index=models.Index(fields=["account_id"], name="binding_account_idx"),
        ),
        trigram_index("bindings_ecoaccountbinding", "account_name", "binding_name_trgm_idx"),
        jsonb_path_index("bindings_ecoaccountbinding", "custom_field_values", "binding_values_gin_idx"),
        trigram_index("bindings_vendorcustomer", "name", "customer_name_trgm_idx"),
    ]
