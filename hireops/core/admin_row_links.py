"""Each list row's link to its change page carries the list's filters, as Django writes it,
without Django resolving that link's URL again for every row.

Django's ``items_for_result`` passes each row's link through ``add_preserved_filters``, which
resolves the URL (a walk of the admin's URL patterns, some 40 of them) to ask whether it is the
list's own page, where the filters would be unwrapped. A row's change page never is, so the
answer is known: the link is the change URL with the list's ``_changelist_filters`` as its
query. Resolving 25 links cost 3-4 ms of a filtered list page (docs/benchmarks.md). Here the
change list appends that query itself and hands Django no filters to merge; the links are the
same bytes (tests/test_admin_row_links.py compares them with Django's for every admin)."""

from urllib.parse import parse_qsl

from django.utils.http import urlencode

from .admin_changelist import with_mixin
from .mixin_bases import AdminMixin, ChangeListMixin


class QuickRowLinksChangeList(ChangeListMixin):
    """Mixed in front of the admin's ChangeList (``QuickRowLinks.get_changelist``)."""

    preserved_filters: str

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Written as add_preserved_filters writes a query it merged (parsed, then encoded).
        self.row_link_query = urlencode(dict(parse_qsl(self.preserved_filters)))
        self.preserved_filters = ""  # nothing left for items_for_result to merge (or resolve)

    def url_for_result(self, result) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.row_link_query}" if self.row_link_query else url


class QuickRowLinks(AdminMixin):
    """ModelAdmin mixin: its list's row links cost no URL resolving (see the module)."""

    def get_changelist(self, request, **kwargs):
        return with_mixin(QuickRowLinksChangeList, super().get_changelist(request, **kwargs))
