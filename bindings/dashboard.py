"""The vendor side's part of the admin index's "Needs attention" box."""

from django.utils.translation import gettext as _

from hireops.core.admin import dashboard

from . import selectors
from .models import BindingStatus, EcoAccountBinding, FieldPublish, FieldScope


@dashboard.contribute
def vendor_work(request):
    user = request.user  # the counts are left to the board: one query for every section's
    if dashboard.can_view(user, EcoAccountBinding):
        url = dashboard.changelist_url(EcoAccountBinding, status__exact=BindingStatus.NEEDS_REVIEW)
        review = selectors.bindings_needing_review()
        yield dashboard.Item(_("Bindings needing review"), review, url, per_tenant=review)
    if dashboard.can_view(user, FieldScope):
        for state, tenants in selectors.scopes_with_unpublished_changes():
            label = _("Unpublished custom-field changes: %(scope)s") % {"scope": state.get_scope_display()}
            # A self-built app: 1 (its own tenant); a store app: how many tenants are behind.
            yield dashboard.Item(
                label,
                len(tenants),
                dashboard.changelist_url(FieldScope),
                per_tenant=dict.fromkeys(tenants, 1),
                tenant_url=dashboard.changelist_url(FieldPublish, scope__exact=state.scope),
            )
    if dashboard.can_view(user, FieldPublish):
        label = _("Custom-field publishes failed or waiting (7 days)")
        publishes = selectors.publishes_failed_or_waiting(days=7)
        yield dashboard.Item(label, publishes, dashboard.changelist_url(FieldPublish), per_tenant=publishes)
