from django.db import migrations


def create_scopes(apps, schema_editor):
    # One lock/revision row per scope, present before anyone edits or publishes.
    FieldScope = apps.get_model("bindings", "FieldScope")
    for scope in (1, 2):
        FieldScope.objects.get_or_create(scope=scope)


class Migration(migrations.Migration):
    dependencies = [("bindings", "0001_initial")]
    operations = [migrations.RunPython(create_scopes, migrations.RunPython.noop)]
