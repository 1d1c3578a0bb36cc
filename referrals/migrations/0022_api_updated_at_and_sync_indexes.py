"""The partner API's lists (referrals/api/): accounts and payout runs paged by
(updated_at, id), with their status and tenant filters, and a run's lines by tenant then id.
Payout runs gain ``updated_at``; a run made before takes the last time it is known to have
changed, so a first sync by ``updated_after`` orders them as they happened."""

import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


def _runs_last_changed(apps, schema_editor):
    PayoutRun = apps.get_model("referrals", "PayoutRun")
    for run in PayoutRun.objects.only("prepared_at", "decided_at", "finished_at", "notified_at").iterator():
        known = [t for t in (run.prepared_at, run.decided_at, run.finished_at, run.notified_at) if t]
        PayoutRun.objects.filter(pk=run.pk).update(updated_at=max(known))


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0021_leaver_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="payoutrun",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True, db_default=django.db.models.functions.datetime.Now(), verbose_name="updated at"
            ),
        ),
        migrations.RunPython(_runs_last_changed, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="payoutline",
            index=models.Index(fields=["run", "tenant_key", "id"], name="payout_line_run_tenant_idx"),
        ),
        migrations.AddIndex(
            model_name="payoutrun",
            index=models.Index(fields=["updated_at", "id"], name="payout_run_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(fields=["updated_at", "id"], name="account_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(fields=["status", "updated_at", "id"], name="account_status_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="referralaccount",
            index=models.Index(fields=["tenant_key", "updated_at", "id"], name="account_tenant_updated_idx"),
        ),
    ]
