"""A vendor's system reads its tenants, bindings and customers, and feeds its customers and
their identifiers to the matching (``/api/v1/``).

**Bindings** are tenant data: a key limited to tenants sees its tenants' bindings only. The
custom-field values a binding carries are what the customer company typed when it added the
vendor's account in Feishu (an organisation id, an account token): the admin shows and searches
them in full to whoever may see bindings (``EcoAccountBinding`` declares no personal field), so
they come with ``bindings:read`` and no ``…:personal_data`` scope; were the model to declare
them personal, they would be masked here with ``hireops.core.privacy.personal`` as in the admin. A
binding answers its customer's id (``customer_id``); the customer's own fields are read from
``/customers``, so a renamed customer never makes a synced binding stale.

**Customers** are the vendor's own, shared by every tenant (one customer may hold accounts in
several tenants, and an identifier decides matching in all of them). So:

- a key for every tenant reads and writes every customer;
- a key limited to tenants reads only the customers its tenants' accounts are bound to (the
  customers its bindings name: nothing it could not already tell), and another customer
  answers 404 as a missing one does;
- a key limited to tenants never writes a customer (403): a customer's identifiers decide the
  matching of every tenant's accounts, which such a key may not touch. Nothing is lost: the
  vendor's CRM, which owns the customers, holds a key for every tenant.

Writes go through ``bindings.customers`` with the admin's checks; like the admin, they do not
re-run matching of bindings waiting for review (staff's "Re-run matching" or Feishu's next
event for the account does).
"""

import enum
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from hireops.api.pagination import PageParams, page
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Moment, Page, Text64, Text128, Text200, Text500, Text10000, Timestamp
from hireops.api.scopes import declare
from hireops.api.site import operation, register
from hireops.core.messages import Message
from hireops.tenants.models import Tenant, TenantStatus

from . import customers as service
from .models import (
    BindingStatus,
    CustomerIdentifier,
    EcoAccountBinding,
    Scope,
    Usage,
    VendorCustomer,
)

declare("tenants:read", _("See the tenants that installed the app"), permission="tenants.view_tenant")
declare(
    "bindings:read",
    _("See the eco-account bindings and the custom-field values customers filled in"),
    permission="bindings.view_ecoaccountbinding",
)
declare(
    "customers:read",
    _("See the vendor's customers and their identifiers"),
    permission="bindings.view_vendorcustomer",
)
declare(
    "customers:write",
    _("Create and change the vendor's customers and their identifiers"),
    permission="bindings.change_vendorcustomer",
)
router = Router(tags=["Tenants"])
bindings_router = Router(tags=["Bindings"])
customers_router = Router(tags=["Customers"])

MAX_ID = 2**63 - 1  # a BigAutoField: a larger id is no row, not a database error


def _pk(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise not_found()
    return value


# --- tenants ----------------------------------------------------------------------------


class TenantOut(Schema):
    tenant_key: str
    name: str
    status: TenantStatus
    first_seen: Moment
    updated_at: Moment


class TenantFilters(PageParams):
    status: TenantStatus | None = None
    updated_after: Timestamp | None = None


@operation(
    router.get,
    "/tenants",
    "listTenants",
    scope="tenants:read",
    summary="List tenants",
    response=Page[TenantOut],
)
def list_tenants(request, filters: Query[TenantFilters]):
    rows = Tenant.objects.all()
    if request.api_key.tenant_keys:
        rows = rows.filter(tenant_key__in=request.api_key.tenant_keys)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=filters.updated_after)
    return page(
        rows,
        filters,
        serialize=tenant_out,
    )


def tenant_out(t: Tenant) -> TenantOut:
    return TenantOut(
        tenant_key=t.tenant_key,
        name=str(t),
        status=t.status,  # type: ignore[arg-type]  # the stored value: pydantic reads it as the enum
        first_seen=t.first_seen,
        updated_at=t.updated_at,
    )


# --- bindings ---------------------------------------------------------------------------


class BindingType(enum.StrEnum):
    """The binding's scope in Feishu: 1 background check, 2 exam."""

    BACKGROUND_CHECK = "background_check"
    EXAM = "exam"


class UsageName(enum.StrEnum):
    EXPERIENCED = "experienced"
    CAMPUS = "campus"


TYPE_OF_SCOPE: dict[int, BindingType] = {
    Scope.BACKGROUND_CHECK: BindingType.BACKGROUND_CHECK,
    Scope.EXAM: BindingType.EXAM,
}
SCOPE_OF_TYPE = {t: s for s, t in TYPE_OF_SCOPE.items()}
USAGE_NAMES = {Usage.EXPERIENCED: UsageName.EXPERIENCED, Usage.CAMPUS: UsageName.CAMPUS}


class CustomFieldValue(Schema):
    key: str
    value: str


class BindingOut(Schema):
    id: int
    tenant_key: str
    app_id: str
    account_id: str = Field(description="Feishu's id of the vendor account the customer added.")
    account_name: str
    type: BindingType
    usage: list[UsageName] = Field(description="What the customer uses the account for.")
    status: BindingStatus
    customer_id: int | None = Field(description="The customer it is bound to (see /customers).")
    reason: str = Field(description="Why it has its status (matching's or staff's words, in English).")
    decided_by_staff: bool = Field(description="Bound or rejected by a person: matching leaves it as it is.")
    custom_fields: list[CustomFieldValue] = Field(description="What the customer filled in Feishu.")
    created_at: Moment
    updated_at: Moment


class BindingFilters(PageParams):
    updated_after: Timestamp | None = None
    status: BindingStatus | None = None
    tenant: Text128 | None = None
    type: BindingType | None = None


def _english(text) -> str:
    """A stored Message (matching's reason) rendered again in the active language, whatever
    language the row was read in: English wherever a binding is answered, in a request (the
    API's middleware) and in a webhook event's data (hireops.webhooks.events.record)."""
    if isinstance(text, Message):
        return str(Message.from_json(text.to_json()))
    return str(text or "")


def binding_out(b: EcoAccountBinding) -> BindingOut:
    return BindingOut(
        id=b.pk,
        tenant_key=b.tenant_key,
        app_id=b.app_id,
        account_id=b.account_id,
        account_name=b.account_name,
        type=TYPE_OF_SCOPE[b.scope],
        usage=[USAGE_NAMES[u] for u in b.usage_list if u in USAGE_NAMES],
        status=b.status,  # type: ignore[arg-type]  # the stored value: pydantic reads it as the enum
        customer_id=b.customer_id,
        reason=_english(b.review_reason),
        decided_by_staff=b.decided_manually,
        custom_fields=[
            CustomFieldValue(key=str(i.get("key") or ""), value=str(i.get("value") or ""))
            for i in b.custom_field_values
            if isinstance(i, dict)
        ],
        created_at=b.created_at,
        updated_at=b.updated_at,
    )


def _bindings(request):
    rows = EcoAccountBinding.objects.exclude(status="")  # "" only inside the event's transaction
    if request.api_key.tenant_keys:
        rows = rows.filter(tenant_key__in=request.api_key.tenant_keys)
    return rows


@operation(
    bindings_router.get,
    "/bindings",
    "listBindings",
    scope="bindings:read",
    summary="List eco-account bindings",
    response=Page[BindingOut],
)
def list_bindings(request, filters: Query[BindingFilters]):
    rows = _bindings(request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=filters.updated_after)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.tenant is not None:
        rows = rows.filter(tenant_key=filters.tenant)
    if filters.type:
        rows = rows.filter(scope=SCOPE_OF_TYPE[filters.type])
    return page(rows, filters, serialize=binding_out)


@operation(
    bindings_router.get,
    "/bindings/{id}",
    "getBinding",
    scope="bindings:read",
    summary="One eco-account binding",
    response=BindingOut,
)
def get_binding(request, id: int):
    binding = _bindings(request).filter(pk=_pk(id)).first()
    if binding is None:
        raise not_found()
    return binding_out(binding)


# --- customers --------------------------------------------------------------------------


class IdentifierOut(Schema):
    key: str
    value: str


class CustomerOut(Schema):
    id: int
    name: str
    contact: str
    notes: str
    identifiers: list[IdentifierOut] = Field(
        description="Custom-field values that identify this customer: an account whose field "
        "`key` has `value` is bound to it."
    )
    created_at: Moment
    updated_at: Moment


class CustomerFilters(PageParams):
    updated_after: Timestamp | None = None
    identifier_key: Text64 | None = Field(
        None, description="With identifier_value: the customer it identifies."
    )
    identifier_value: Text500 | None = None


class IdentifierIn(Schema):
    key: Text64 = Field(
        description="A custom-field key: letters, digits, underscores, starting with a letter."
    )
    value: Text500


class CustomerIn(Schema):
    name: Text200
    contact: Text200 = ""
    notes: Text10000 = ""
    identifiers: list[IdentifierIn] = Field(default=[], max_length=100)


class CustomerPatch(Schema):
    """Only the fields sent change; ``identifiers``, when sent, replaces the whole set
    (``[]`` removes every identifier)."""

    name: Text200 | None = None
    contact: Text200 | None = None
    notes: Text10000 | None = None
    identifiers: list[IdentifierIn] | None = Field(default=None, max_length=100)


def _customer_out(c: VendorCustomer, identifiers: Iterable[CustomerIdentifier] | None = None) -> CustomerOut:
    """``identifiers``: the customer's, ordered by key and value, when in hand (else read)."""
    return CustomerOut(
        id=c.pk,
        name=c.name,
        contact=c.contact,
        notes=c.notes,
        identifiers=[
            IdentifierOut(key=i.key, value=i.value)
            for i in (c.identifiers.all() if identifiers is None else identifiers)
        ],
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def _customers(request):
    """The customers the key may see: all, or (a key limited to tenants) those its tenants'
    accounts are bound to. A semi-join walked in the customers' own order: each customer of
    the page is one probe of the bindings' customer index, whether the tenant holds a few
    customers or all of them (a list of their ids took 290 ms for a tenant of 20,000:
    bench/api_lists.py)."""
    ordered = CustomerIdentifier.objects.order_by("key", "value")
    rows = VendorCustomer.objects.prefetch_related(Prefetch("identifiers", queryset=ordered))
    if request.api_key.tenant_keys:
        bound = EcoAccountBinding.objects.filter(
            customer=OuterRef("pk"), tenant_key__in=request.api_key.tenant_keys, status=BindingStatus.BOUND
        )
        rows = rows.filter(Exists(bound))
    return rows


def _customer(request, id: int) -> VendorCustomer:
    customer = _customers(request).filter(pk=_pk(id)).first()
    if customer is None:
        raise not_found()
    return customer


def _every_tenant(request) -> None:
    if request.api_key.tenant_keys:
        raise Problem(
            403,
            "Customers are shared by every tenant: only a key for every tenant may change them.",
            kind="tenant-limited-key",
        )


def _refused(exc: service.CustomerRefused) -> Problem:
    fields = ", ".join(dict.fromkeys(field for field, _message in exc.errors))
    return Problem(
        422, f"The customer was not saved: see {fields}.", kind="invalid-customer", errors=exc.errors
    )


def _identifiers(items) -> list[tuple[str, str]] | None:
    return None if items is None else [(i.key, i.value) for i in items]


@operation(
    customers_router.get,
    "/customers",
    "listCustomers",
    scope="customers:read",
    summary="List the vendor's customers with their identifiers",
    response=Page[CustomerOut],
)
def list_customers(request, filters: Query[CustomerFilters]):
    rows = _customers(request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=filters.updated_after)
    if (filters.identifier_key is None) != (filters.identifier_value is None):
        missing = "identifier_value" if filters.identifier_value is None else "identifier_key"
        raise Problem(
            400,
            "identifier_key and identifier_value go together.",
            kind="invalid-parameter",
            errors=[(missing, "required with the other")],
        )
    if filters.identifier_key is not None:
        holders = CustomerIdentifier.objects.filter(
            key=filters.identifier_key, value=filters.identifier_value
        )
        rows = rows.filter(pk__in=holders.values("customer_id"))
    return page(rows, filters, serialize=_customer_out)


@operation(
    customers_router.get,
    "/customers/{id}",
    "getCustomer",
    scope="customers:read",
    summary="One customer with its identifiers",
    response=CustomerOut,
)
def get_customer(request, id: int):
    return _customer_out(_customer(request, id))


@operation(
    customers_router.post,
    "/customers",
    "createCustomer",
    scope="customers:write",
    summary="Create a customer with its identifiers",
    response={201: CustomerOut},
    write=True,
    created="/customers/{id}",
)
def create_customer(request, payload: CustomerIn):
    _every_tenant(request)
    fields = {"name": payload.name, "contact": payload.contact, "notes": payload.notes}
    try:
        created = service.customer_create(
            service.Changes(fields, _identifiers(payload.identifiers)), request.api_key.actor
        )
    except service.CustomerRefused as exc:
        raise _refused(exc) from None
    # A key for every tenant sees every customer: the answer is what was written, its
    # identifiers, when several, in the database's order (its collation), as a read gives them.
    several = len(created.identifiers) > 1
    identifiers = created.customer.identifiers.order_by("key", "value") if several else created.identifiers
    return Status(201, _customer_out(created.customer, identifiers))


@operation(
    customers_router.patch,
    "/customers/{id}",
    "updateCustomer",
    scope="customers:write",
    summary="Change a customer; identifiers, when sent, replace its set",
    response=CustomerOut,
    write=True,
)
def update_customer(request, id: int, payload: CustomerPatch):
    customer = _customer(request, id)  # 404 first: another tenant's customer is a missing one
    _every_tenant(request)
    sent = payload.model_fields_set
    errors = [
        (name, "may not be null")
        for name in ("name", "identifiers")
        if name in sent and getattr(payload, name) is None
    ]
    if errors:
        raise Problem(422, "The request is not valid.", kind="invalid-request", errors=errors)
    fields = {name: getattr(payload, name) or "" for name in service.FIELDS if name in sent}
    try:
        service.customer_update(
            customer, service.Changes(fields, _identifiers(payload.identifiers)), request.api_key.actor
        )
    except service.CustomerRefused as exc:
        raise _refused(exc) from None
    return _customer_out(_customer(request, customer.pk))


register(router)
register(bindings_router)
register(customers_router)
