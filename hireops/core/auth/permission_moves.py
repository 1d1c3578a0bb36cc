"""For migrations: a permission that moves to another model keeps everyone who held it."""

from django.db import migrations


def _permission(apps, model: str, codename: str, name: str):
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    app_label, model_name = model.split(".")
    ct, _ = content_type.objects.get_or_create(app_label=app_label, model=model_name)
    return permission.objects.get_or_create(content_type=ct, codename=codename, defaults={"name": name})[0]


def _move(apps, source: tuple[str, str, str], target: tuple[str, str, str]) -> None:
    permission = apps.get_model("auth", "Permission")
    model, codename, _name = source
    held = permission.objects.filter(content_type__app_label=model.split(".")[0], codename=codename)
    if not held.exists():
        return  # a new database: nothing was ever granted
    new = _permission(apps, *target)
    for old in held:
        new.group_set.add(*old.group_set.all())
        new.user_set.add(*old.user_set.all())
        old.delete()


def move_permission(source: tuple[str, str, str], target: tuple[str, str, str]) -> migrations.RunPython:
    """``(model, codename, name)`` → ``(model, codename, name)``: groups and users holding the
    first get the second, then the first is deleted. Reversible."""
    return migrations.RunPython(
        lambda apps, schema_editor: _move(apps, source, target),
        lambda apps, schema_editor: _move(apps, target, source),
    )
