from django.db import migrations, models

HANDLED = "Leaver marked as handled."  # services.LEAVER_HANDLED, as the change history keeps it


def from_the_history(apps, schema_editor):
    """Leavers marked as handled before the flag: their change history says so."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")
    Leaver = apps.get_model("referrals", "Leaver")
    kind = ContentType.objects.filter(app_label="referrals", model="leaver").first()
    if kind is None:
        return
    entries = LogEntry.objects.filter(content_type=kind, change_message__contains=f'"{HANDLED}"')
    ids = {int(pk) for pk in entries.values_list("object_id", flat=True) if pk and pk.isdigit()}
    if ids:
        Leaver.objects.filter(pk__in=ids).update(handled_by_hand=True)


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("referrals", "0029_payout_line_trend_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="leaver",
            name="handled_by_hand",
            field=models.BooleanField(default=False, verbose_name="marked as handled"),
        ),
        migrations.RunPython(from_the_history, migrations.RunPython.noop),
    ]
