"""The bindings list's search finds the same rows through the same statements whichever role
searches: a role decides what its user may do with a binding, never what the search reads. A
role that searched differently (a masked field left out, a restriction joined in) would be
planned differently by PostgreSQL; bench/admin.py times each role's search at production size
(docs/benchmarks.md, *Admin pages on a large customer's year*)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bindings.models import BindingStatus, EcoAccountBinding, VendorCustomer

pytestmark = pytest.mark.django_db

LIST = "/admin/bindings/ecoaccountbinding/"


def binding(account_id: str, name: str, value: str, customer=None) -> EcoAccountBinding:
    return EcoAccountBinding.objects.create(
        app_id="cli_a",
        tenant_key="t",
        account_id=account_id,
        scope=1,
        account_name=name,
        custom_field_values=[{"key": "ord_id", "value": value}],
        field_values_text=f"ord_id={value}",
        customer=customer,
        status=BindingStatus.BOUND if customer else BindingStatus.NEEDS_REVIEW,
    )


def searched(client, term: str) -> tuple[set[str], list[str]]:
    """The account ids the list shows, and the statements it ran about bindings and customers."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, {"q": term})
    assert response.status_code == 200
    statements = [q["sql"] for q in captured.captured_queries if "bindings_" in q["sql"]]
    return {b.account_id for b in response.context["cl"].result_list}, statements


def test_every_role_finds_the_same_bindings_through_the_same_statements(client, staff_user, admin_user):
    customer = VendorCustomer.objects.create(name="华东001科技有限公司")
    binding("eco-name", "背调账号 001234", "7000002")  # a part of its name
    binding("001", "笔试账号 A", "7000003")  # its account id, exactly
    binding("eco-value", "笔试账号 B", "001")  # a custom-field value, exactly
    binding("eco-customer", "背调账号 C", "7000004", customer=customer)  # its customer's name
    binding("eco-other", "背调账号 000999", "0020")  # none of them

    roles = {"superuser": admin_user, **{r: staff_user(r) for r in ("Vendor operations", "Auditor")}}
    seen = {}
    for role, user in roles.items():
        client.force_login(user)
        seen[role] = searched(client, "001")

    wanted = {"eco-name", "001", "eco-value", "eco-customer"}
    assert {role: found for role, (found, _) in seen.items()} == dict.fromkeys(roles, wanted)
    statements = {role: sql for role, (_, sql) in seen.items()}
    assert statements["Vendor operations"] == statements["superuser"] == statements["Auditor"]
    assert statements["superuser"], "the search ran no statement about bindings"
