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


def _page_statement(statements: list[str]) -> str:
    (page,) = [sql for sql in statements if "ORDER BY" in sql and "bindings_ecoaccountbinding" in sql]
    return page[page.index("ORDER BY") :]


def _queue(client, term: str):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, {"q": term})
    assert response.status_code == 200
    rows = [
        (b.account_id, b.customer.name if b.customer else None) for b in response.context["cl"].result_list
    ]
    return rows, _page_statement([q["sql"] for q in captured.captured_queries])


def _seed_queue() -> list[tuple[str, str | None]]:
    """Matching bindings (a part of their number, or their customer's name), needs-review and
    decided, updated at different moments; the review queue's order of them."""
    customer = VendorCustomer.objects.create(name="华东001科技有限公司")
    made = [
        binding("eco-old-review", "背调账号 001001", "1"),
        binding("eco-bound-new", "背调账号 001002", "2", customer=customer),
        binding("eco-new-review", "背调账号 001003", "3"),
        binding("eco-customer", "背调账号 C", "4", customer=customer),
        binding("eco-bound-old", "背调账号 001004", "5", customer=customer),
    ]
    binding("eco-other", "背调账号 000999", "0020")
    moments = {
        "eco-old-review": 1,
        "eco-bound-new": 5,
        "eco-new-review": 4,
        "eco-customer": 3,
        "eco-bound-old": 2,
    }
    for b in made:
        EcoAccountBinding.objects.filter(pk=b.pk).update(
            updated_at=f"2026-01-0{moments[b.account_id]}T00:00:00Z"
        )
    return [
        ("eco-new-review", None),
        ("eco-old-review", None),
        ("eco-bound-new", customer.name),
        ("eco-customer", customer.name),
        ("eco-bound-old", customer.name),
    ]


def test_a_search_finding_few_bindings_sorts_them_in_the_queue_order(admin_client):
    """PostgreSQL would walk the review queue's index filtering every binding until 25 match
    (ten thousand rows for "001" at production size); the page orders by the queue expression
    plus zero, which no index serves, so the search's own indexes find the rows and a sort
    orders them: the same rows, in the queue's order, with their customers."""
    queue = _seed_queue()
    rows, order_by = _queue(admin_client, "001")
    assert rows == queue
    assert " + 0)" in order_by  # not the index's expression: the found rows are sorted


def test_a_search_finding_many_bindings_walks_the_queue(admin_client, monkeypatch):
    """Beyond SORT_FOUND_UP_TO matches they are dense along the queue: its index serves the
    order, as it does for the list unsearched."""
    from bindings.admin import binding_review

    queue = _seed_queue()
    monkeypatch.setattr(binding_review, "SORT_FOUND_UP_TO", 3)
    rows, order_by = _queue(admin_client, "001")
    assert rows == queue
    assert " + 0)" not in order_by
