"""The referral accounts: listed by when they last changed, and one by its id, with their
balances and how fresh they are."""

from django.db.models import Prefetch
from ninja import Query, Router

from hireops.api.pagination import page
from hireops.api.problems import not_found
from hireops.api.schemas import Page
from hireops.api.site import operation, register

from ..models import AccountCash, ReferralAccount
from .schemas import AccountFilters, AccountOut, _account, _full, _limited, _utc
from .scopes import READ

router = Router(tags=["Referrals"])


def _accounts(request):
    cash = Prefetch("cash", queryset=AccountCash.objects.order_by("currency"))
    return _limited(ReferralAccount.objects.prefetch_related(cash), request)


@operation(
    router.get,
    "/referral-accounts",
    "listReferralAccounts",
    scope=READ,
    summary="List referral accounts with their balances",
    response=Page[AccountOut],
)
def list_accounts(request, filters: Query[AccountFilters]):
    rows = _accounts(request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=_utc(filters.updated_after))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.tenant is not None:
        rows = rows.filter(tenant_key=filters.tenant)
    if filters.employee_id:
        rows = rows.filter(employee_id=filters.employee_id)
    full = _full(request)
    return page(rows, filters, serialize=lambda a: _account(a, full))


@operation(
    router.get,
    "/referral-accounts/{id}",
    "getReferralAccount",
    scope=READ,
    summary="A referral account with its balance",
    response=AccountOut,
)
def get_account(request, id: int):
    account = _accounts(request).filter(pk=id).first()
    if account is None:
        raise not_found()
    return _account(account, _full(request))


register(router)
