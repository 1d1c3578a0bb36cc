"""Admin building blocks shared by the apps."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from hireops.core.mixin_bases import AdminMixin


class SystemRecordAdmin(admin.ModelAdmin):
    """Rows the system writes (events, publishes, withdrawals): people view them and act
    through actions, never add, edit or delete them by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChangedThroughActions(AdminMixin):
    """For a ModelAdmin whose change permission is for its list actions (bind, withdraw, …):
    the change page only shows the row, without Save buttons, and refuses a save, which
    would change nothing but ``updated_at``."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Related rows shown on a page for reading (history, balances, mismatches)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def action_page(model_admin, request, template: str, title, form=None, **context) -> TemplateResponse:
    """Render a page reached from a changelist (confirmation, import; or a row's own page
    without a form); its template extends admin/hireops/action_page.html, which links back to
    the list."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "opts": model_admin.model._meta,
            "media": model_admin.media + form.media if form is not None else model_admin.media,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,  # type: ignore[attr-defined]  # loaded by admin
            **context,
        },
    )
