"""Admin building blocks shared by the apps."""

from django.contrib import admin


class SystemRecordAdmin(admin.ModelAdmin):
    """Rows the system writes (events, publishes, withdrawals): people view them and act
    through actions, never add, edit or delete them by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Related rows shown on a page for reading (history, balances, mismatches)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
