"""The group and user pickers (permissions, groups) in the reader's language.

Django stores a permission's name once, when migrate creates it, and shows that name: its own
four ("Can add package") always in English, ours (``Meta.permissions``) in whatever language
migrate ran in. The pickers name each permission from the code instead, by its codename: the
model's translated names and the text the model declares.

Under each picker Django adds "Hold down “Control”, or “Command” on a Mac, to select more than
one.", which its Chinese keeps as key names ("按住 Control 键…") and which describes a plain
list box, not the two lists these pickers are: the pickers say how they work instead.
"""

from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hireops.core.mixin_bases import AdminMixin

PICKER_HELP = _("Double-click an entry to move it to the other list, or select entries and use the arrows.")

DEFAULT_NAMES = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission) -> str:
    """ "<app> | <model> | <permission>", each part in the active language."""
    content_type = permission.content_type
    model = content_type.model_class()
    if model is None:  # a model removed from the code: the stored name is all there is
        return str(permission)
    action, _sep, model_name = permission.codename.partition("_")
    if action in DEFAULT_NAMES and model_name == model._meta.model_name:
        name = DEFAULT_NAMES[action] % {"model": model._meta.verbose_name}
    else:
        name = dict(model._meta.permissions).get(permission.codename, permission.name)
    return f"{content_type} | {name}"


class TranslatedPermissions(AdminMixin):
    """ModelAdmin mixin: the permission pickers (a group's, a user's) use ``permission_label``,
    and every two-list picker says how it works (``PICKER_HELP``) after the field's own help."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            # The field's own label function, read as its method (Django's documented hook).
            field.label_from_instance = permission_label  # type: ignore[method-assign, assignment]
        if field is not None and isinstance(field.widget, FilteredSelectMultiple):
            own = db_field.help_text
            field.help_text = format_lazy("{} {}", own, PICKER_HELP) if own else PICKER_HELP
        return field
