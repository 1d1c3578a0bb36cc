"""What the HR side says about each tenant on the tenants page (hireops.tenants.overview)."""

from django.utils.translation import gettext_lazy

from hireops.tenants import overview

from .models import ReferralAccount


@overview.column(gettext_lazy("referral accounts"), model=ReferralAccount)
def accounts(tenant_keys):
    return overview.count_by_tenant(ReferralAccount.objects.all(), tenant_keys, ReferralAccount)
