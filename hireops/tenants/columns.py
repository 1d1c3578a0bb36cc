"""List columns that name a tenant: a store app's lists show them; a self-built app, whose
rows are all its own tenant's, does not."""

from hireops.core.mixin_bases import AdminMixin

from .mode import store_app


class StoreColumns(AdminMixin):
    """Admin mixin: ``store_columns`` are dropped from ``list_display`` for a self-built app."""

    store_columns: tuple[str, ...] = ()

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return shown if store_app() else tuple(c for c in shown if c not in self.store_columns)
