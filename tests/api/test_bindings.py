"""/api/v1/bindings and /api/v1/customers: a vendor's system reads the eco-account bindings and
feeds its customers and their identifiers to the matching, with the admin's checks."""

import contextlib
import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from bindings import bulk
from bindings.matching import binding_upsert_from_event
from bindings.models import (
    BindingStatus,
    CustomerIdentifier,
    EcoAccountBinding,
    MatchingRule,
    Scope,
    VendorCustomer,
)
from hireops.core.audit import describe
from hireops.jobs.services import run_inline
from tests.factories import a_binding, a_customer
from tests.triggers import row_trigger

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db


def _example_binding(tenant_key: str) -> str:
    return str(a_binding(tenant_key).pk)


def _example_customer(tenant_key: str) -> str:
    # Customers belong to no tenant: this one is bound to an account in ``tenant_key``, which is
    # how a key limited to that tenant sees it (a key limited to another answers 404).
    return str(a_customer(f"Customer of {tenant_key}", tenant_key=tenant_key).pk)


EXAMPLES = {
    "/bindings/{id}": _example_binding,
    "/customers/{id}": _example_customer,
}
# A valid request of each write on those rows (tests/api/test_every_operation.py).
BODIES = {"PATCH /customers/{id}": lambda: ("json", {"name": "Renamed"})}


def walk(client, key, url, field="id"):
    seen, pages = [], 0
    while url:
        answer = client.get(url, **bearer(key))
        assert answer.status_code == 200, answer.content
        body = answer.json()
        seen += [row[field] for row in body["data"]]
        pages += 1
        base = url.split("&cursor=")[0]
        url = f"{base}&cursor={body['next_cursor']}" if body["next_cursor"] else None
    return seen, pages


def as_shown(moment: dt.datetime) -> dt.datetime:
    """A time as the API's JSON writes it: to the millisecond (an ``updated_after`` taken from an
    answer may send a row again, never skip one)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["data"]]


# --- bindings ---------------------------------------------------------------------------------


def test_a_binding_answers_what_the_customer_filled_in_and_its_customer(client):
    customer = a_customer()
    binding = a_binding(
        "t1", "acc-1", customer=customer, values={"org_id": "ACME-1", "contact": "li@acme.example"}
    )
    answer = client.get(f"/api/v1/bindings/{binding.pk}", **bearer(make_key("bindings:read")))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body == {
        "id": binding.pk,
        "tenant_key": "t1",
        "app_id": "cli_test",
        "account_id": "acc-1",
        "account_name": "背调账号",
        "type": "background_check",
        "usage": ["experienced", "campus"],
        "status": "bound",
        "customer_id": customer.pk,
        "reason": "",
        "decided_by_staff": False,
        # Not personal data: the admin shows these values in full to whoever sees bindings.
        "custom_fields": [
            {"key": "org_id", "value": "ACME-1"},
            {"key": "contact", "value": "li@acme.example"},
        ],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert dt.datetime.fromisoformat(body["updated_at"]) == as_shown(binding.updated_at)


def test_matchings_reason_is_in_english_whatever_language_is_asked(client):
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    binding = binding_upsert_from_event(
        app_id="cli_test",
        tenant_key="t1",
        event_id="e1",
        event={"scope": 1, "account_id": "acc-1", "custom_field_list": [{"key": "org_id", "value": "NONE"}]},
    )
    answer = client.get(
        f"/api/v1/bindings/{binding.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans", **bearer(make_key("bindings:read"))
    )
    assert answer.json()["status"] == "needs_review"
    assert answer.json()["reason"] == "No customer has org_id=NONE."


def test_walking_the_bindings_returns_each_once_in_update_order(client):
    made = [a_binding("t1") for _ in range(5)]
    seen, pages = walk(client, make_key("bindings:read"), "/api/v1/bindings?limit=2")
    assert seen == [b.pk for b in made] and pages == 3


def test_binding_filters_and_a_key_limited_to_tenants(client):
    old = a_binding("t1", status=BindingStatus.NEEDS_REVIEW)
    EcoAccountBinding.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    bound = a_binding("t1")
    exam = a_binding("t2", scope=Scope.EXAM, status=BindingStatus.REJECTED)
    key = make_key("bindings:read")
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ids(client.get("/api/v1/bindings", {"updated_after": since}, **bearer(key))) == [bound.pk, exam.pk]
    assert ids(client.get("/api/v1/bindings?status=needs_review", **bearer(key))) == [old.pk]
    assert ids(client.get("/api/v1/bindings?tenant=t2", **bearer(key))) == [exam.pk]
    assert ids(client.get("/api/v1/bindings?type=exam", **bearer(key))) == [exam.pk]
    assert ids(client.get("/api/v1/bindings?type=background_check&status=bound", **bearer(key))) == [bound.pk]

    limited = make_key("bindings:read", tenants=["t1"])
    assert ids(client.get("/api/v1/bindings", **bearer(limited))) == [old.pk, bound.pk]
    assert ids(client.get("/api/v1/bindings?tenant=t2", **bearer(limited))) == []
    missing = client.get(f"/api/v1/bindings/{exam.pk + 1000}", **bearer(limited))
    hidden = client.get(f"/api/v1/bindings/{exam.pk}", **bearer(limited))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize(
    "query", ["status=nope", "type=3", "tenant=a%00b", "updated_after=yesterday", "tenant=" + "x" * 129]
)
def test_bad_binding_filters_are_a_400_naming_the_parameter(client, query):
    answer = client.get(f"/api/v1/bindings?{query}", **bearer(make_key("bindings:read")))
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == query.split("=")[0]


def test_an_id_beyond_any_row_is_a_404_not_a_database_error(client):
    key = make_key("bindings:read", "customers:read")
    for path in ("bindings", "customers"):
        assert client.get(f"/api/v1/{path}/{2**63}", **bearer(key)).status_code == 404
        assert client.get(f"/api/v1/{path}/0", **bearer(key)).status_code == 404


def test_every_writer_of_a_binding_moves_it_forward_for_a_sync(client, admin_user):
    """A partner syncing with updated_after sees each change: Feishu's event, staff's bind,
    reject and re-match all save the row whole (updated_at is auto_now)."""
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    acme = a_customer(identifiers=[("org_id", "ACME-1")])
    event = {"scope": 1, "account_id": "acc-1", "custom_field_list": [{"key": "org_id", "value": "NONE"}]}
    binding = binding_upsert_from_event(app_id="cli_test", tenant_key="t1", event_id="e1", event=event)
    key = make_key("bindings:read")

    def seen_after(mark):
        url = f"/api/v1/bindings?updated_after={mark.isoformat().replace('+', '%2B')}"
        return [(row["status"], row["customer_id"]) for row in client.get(url, **bearer(key)).json()["data"]]

    mark = EcoAccountBinding.objects.get().updated_at
    CustomerIdentifier.objects.create(customer=acme, key="org_id", value="NONE")
    run_inline(bulk.rematch, EcoAccountBinding.objects.all(), {}, admin_user)
    assert seen_after(mark) == [("bound", acme.pk)]
    mark = EcoAccountBinding.objects.get().updated_at
    run_inline(bulk.reject, EcoAccountBinding.objects.all(), {"reason": "not ours"}, admin_user)
    assert seen_after(mark) == [("rejected", None)]
    mark = EcoAccountBinding.objects.get().updated_at
    run_inline(bulk.bind, EcoAccountBinding.objects.all(), {"customer": acme.pk, "reason": ""}, admin_user)
    assert seen_after(mark) == [("bound", acme.pk)]
    mark = EcoAccountBinding.objects.get().updated_at
    binding_upsert_from_event(
        app_id="cli_test", tenant_key="t1", event_id="e2", event={**event, "account_name": "x"}
    )
    assert seen_after(mark) == [("bound", acme.pk)]
    assert binding.pk == EcoAccountBinding.objects.get().pk


# --- customers: reading ----------------------------------------------------------------------


def test_a_customer_answers_its_identifiers(client):
    customer = a_customer("Acme 科技", identifiers=[("org_id", "ACME-1"), ("exam_org", "EX-1")])
    answer = client.get(f"/api/v1/customers/{customer.pk}", **bearer(make_key("customers:read")))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["id"], body["name"], body["contact"], body["notes"]) == (customer.pk, "Acme 科技", "", "")
    assert body["identifiers"] == [{"key": "exam_org", "value": "EX-1"}, {"key": "org_id", "value": "ACME-1"}]
    assert dt.datetime.fromisoformat(body["updated_at"]) == as_shown(customer.updated_at)


@pytest.mark.parametrize(
    "identifiers",
    [
        [],
        [("org_id", "ACME-1")],
        [("org_id", "b-2"), ("org_id", "B-1"), ("exam_org", "科技"), ("exam_org", "EX")],
    ],
)
def test_a_created_customer_is_answered_as_a_read_answers_it(client, identifiers):
    """The create's answer is built from what was written, not read back: it must still be,
    field for field and in the same order of identifiers, what a GET then gives."""
    key = make_key("customers:write", "customers:read")
    body = {"name": " Acme ", "notes": "n", "identifiers": [{"key": k, "value": v} for k, v in identifiers]}
    created = client.post("/api/v1/customers", body, content_type="application/json", **bearer(key))
    assert created.status_code == 201, created.content
    read = client.get(f"/api/v1/customers/{created.json()['id']}", **bearer(key))
    assert created.json() == read.json() and created.json()["name"] == "Acme"


def test_walking_the_customers_returns_each_once_and_reads_identifiers_in_one_query(
    client, django_assert_max_num_queries
):
    made = [a_customer(f"C{i}", identifiers=[("org_id", f"O{i}"), ("alt", f"A{i}")]) for i in range(5)]
    key = make_key("customers:read")
    seen, pages = walk(client, key, "/api/v1/customers?limit=2")
    assert seen == [c.pk for c in made] and pages == 3
    client.get("/api/v1/customers", **bearer(key))  # the key's last use is written once a minute
    with django_assert_max_num_queries(5):  # the key, its rate limit's nothing, the page, the identifiers
        assert len(client.get("/api/v1/customers", **bearer(key)).json()["data"]) == 5


def test_customer_filters(client):
    old = a_customer("Old", identifiers=[("org_id", "OLD")])
    VendorCustomer.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    new = a_customer("New", identifiers=[("org_id", "NEW")])
    key = make_key("customers:read")
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ids(client.get("/api/v1/customers", {"updated_after": since}, **bearer(key))) == [new.pk]
    found = client.get("/api/v1/customers?identifier_key=org_id&identifier_value=OLD", **bearer(key))
    assert ids(found) == [old.pk]
    assert (
        ids(client.get("/api/v1/customers?identifier_key=org_id&identifier_value=NONE", **bearer(key))) == []
    )
    half = client.get("/api/v1/customers?identifier_key=org_id", **bearer(key))
    assert half.status_code == 400 and half.json()["errors"] == [
        {"field": "identifier_value", "message": "required with the other"}
    ]


def test_a_key_limited_to_tenants_sees_the_customers_its_accounts_are_bound_to(client):
    mine = a_customer("Mine", tenant_key="t1")
    theirs = a_customer("Theirs", tenant_key="t2")
    pending = a_customer("Pending")
    a_binding("t1", status=BindingStatus.NEEDS_REVIEW)
    a_binding("t1", status=BindingStatus.REJECTED)
    limited = make_key("customers:read", tenants=["t1"])
    assert ids(client.get("/api/v1/customers", **bearer(limited))) == [mine.pk]
    assert client.get(f"/api/v1/customers/{mine.pk}", **bearer(limited)).status_code == 200
    for other in (theirs, pending):
        assert client.get(f"/api/v1/customers/{other.pk}", **bearer(limited)).json() == {
            "type": "urn:hireops:problem:not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "No such object.",
        }
    everyone = make_key("customers:read")
    assert ids(client.get("/api/v1/customers", **bearer(everyone))) == [mine.pk, theirs.pk, pending.pk]


# --- customers: writing ----------------------------------------------------------------------


def post(client, key, body, **headers):
    return client.post("/api/v1/customers", body, content_type="application/json", **bearer(key), **headers)


def patch(client, key, pk, body, **headers):
    return client.patch(
        f"/api/v1/customers/{pk}", body, content_type="application/json", **bearer(key), **headers
    )


def history(customer) -> list[tuple[str, str]]:
    entries = LogEntry.objects.filter(object_id=str(customer.pk), content_type__model="vendorcustomer")
    return [(e.user.username, describe(e)) for e in entries.order_by("pk")]


def test_a_crms_customer_feeds_the_matching_of_the_next_account(client):
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    writer = make_key("customers:write", "customers:read")
    answer = post(
        client,
        writer,
        {"name": " Acme 科技 ", "contact": "Ms Li", "identifiers": [{"key": "org_id", "value": " ACME-1 "}]},
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    customer = VendorCustomer.objects.get()
    assert (body["id"], body["name"], body["identifiers"]) == (
        customer.pk,
        "Acme 科技",  # stripped, as the admin's form strips
        [{"key": "org_id", "value": "ACME-1"}],
    )
    assert client.get(f"/api/v1/customers/{customer.pk}", **bearer(writer)).json() == body
    prefix = writer[:12]
    assert history(customer) == [
        (f"api-key:{prefix}", "Created through the API, with the identifiers org_id = ACME-1.")
    ]

    event = {"scope": 1, "account_id": "acc-9", "custom_field_list": [{"key": "org_id", "value": "ACME-1"}]}
    binding = binding_upsert_from_event(app_id="cli_test", tenant_key="t1", event_id="e9", event=event)
    assert (binding.status, binding.customer_id) == (BindingStatus.BOUND, customer.pk)


def test_a_patch_changes_what_it_sends_and_replaces_the_identifiers(client):
    customer = a_customer("Acme", identifiers=[("org_id", "ACME-1"), ("old", "X")])
    before = customer.updated_at
    key = make_key("customers:write")
    answer = patch(
        client,
        key,
        customer.pk,
        {
            "contact": "Ms Li",
            "identifiers": [{"key": "org_id", "value": "ACME-1"}, {"key": "exam_org", "value": "EX-1"}],
        },
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["name"], body["contact"]) == ("Acme", "Ms Li")
    assert body["identifiers"] == [{"key": "exam_org", "value": "EX-1"}, {"key": "org_id", "value": "ACME-1"}]
    customer.refresh_from_db()
    assert customer.updated_at > before
    assert [m for _u, m in history(customer)] == [
        "Changed through the API: contact.",
        "Identifiers changed through the API: added exam_org = EX-1; removed old = X.",
    ]
    kept = CustomerIdentifier.objects.get(key="org_id")
    assert kept.customer_id == customer.pk

    # The same again changes nothing: no entry, updated_at stays (a sync is not sent it again).
    stamp = customer.updated_at
    again = patch(client, key, customer.pk, {"contact": "Ms Li"})
    assert again.status_code == 200
    customer.refresh_from_db()
    assert customer.updated_at == stamp and len(history(customer)) == 2
    assert patch(client, key, customer.pk, {"identifiers": []}).json()["identifiers"] == []
    assert patch(client, key, customer.pk, {"contact": None}).json()["contact"] == ""


def _counts() -> tuple[int, int, int]:
    return VendorCustomer.objects.count(), CustomerIdentifier.objects.count(), LogEntry.objects.count()


def test_a_value_another_customer_holds_is_refused_naming_the_field_and_nothing_changes(client):
    other = a_customer("Globex", identifiers=[("org_id", "GLX-1")])
    customer = a_customer("Acme", identifiers=[("org_id", "ACME-1")])
    key = make_key("customers:write")
    before = _counts()

    refused = post(client, key, {"name": "New", "identifiers": [{"key": "org_id", "value": "GLX-1"}]})
    assert refused.status_code == 422, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"] == [
        {
            "field": "identifiers.0.value",
            "message": f"org_id=GLX-1 already identifies the customer {other.pk} (Globex).",
        }
    ]
    changed = patch(
        client,
        key,
        customer.pk,
        {
            "name": "Renamed",
            "identifiers": [{"key": "org_id", "value": "NEW"}, {"key": "org_id", "value": "GLX-1"}],
        },
    )
    assert changed.status_code == 422
    assert [e["field"] for e in changed.json()["errors"]] == ["identifiers.1.value"]
    assert _counts() == before
    customer.refresh_from_db()
    assert customer.name == "Acme"
    assert list(customer.identifiers.values_list("value", flat=True)) == ["ACME-1"]


@contextlib.contextmanager
def _value_taken_after_the_check(holder, value):
    """Another writer gives ``value`` to ``holder`` after the duplicate check, just before the
    identifiers are inserted: triggers in the write's transaction, on the insert of a customer
    named "Late" (a create) and on the removal of the identifier ACME-1 (a change)."""
    customers, identifiers = VendorCustomer._meta.db_table, CustomerIdentifier._meta.db_table
    insert = f"INSERT INTO {identifiers} (customer_id, key, value) VALUES ({holder.pk}, 'org_id', '{value}');"  # noqa: S608
    with (
        row_trigger(
            "take_on_create",
            f"AFTER INSERT ON {customers}",
            when="NEW.name = 'Late'",
            postgresql=f"{insert} RETURN NULL;",
            sqlite=insert,
        ),
        row_trigger(
            "take_on_change",
            f"AFTER DELETE ON {identifiers}",
            when="OLD.value = 'ACME-1'",
            postgresql=f"{insert} RETURN NULL;",
            sqlite=insert,
        ),
    ):
        yield


@pytest.mark.django_db(transaction=True)
def test_a_value_taken_between_the_check_and_the_write_is_refused_and_the_refusal_kept(client):
    holder = a_customer("Globex")
    customer = a_customer("Acme", identifiers=[("org_id", "ACME-1")])
    key = make_key("customers:write")
    before = _counts()
    late = {"name": "Late", "identifiers": [{"key": "org_id", "value": "GLX-9"}]}
    with _value_taken_after_the_check(holder, "GLX-9"):
        created = post(client, key, late, HTTP_IDEMPOTENCY_KEY="late-1")
        changed = patch(client, key, customer.pk, late, HTTP_IDEMPOTENCY_KEY="late-2")
    for refused in (created, changed):
        assert refused.status_code == 422, refused.content
        assert refused.json()["errors"] == [
            {
                "field": "identifiers",
                "message": "An identifier was just given to another customer; send the request again.",
            }
        ]
    # The refusals were kept with their keys, and nothing of either write (nor of the trigger's).
    assert post(client, key, late, HTTP_IDEMPOTENCY_KEY="late-1").content == created.content
    assert patch(client, key, customer.pk, late, HTTP_IDEMPOTENCY_KEY="late-2").content == changed.content
    assert _counts() == before
    customer.refresh_from_db()
    assert customer.name == "Acme"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "identifiers": [{"key": "1bad", "value": "v"}]}, "identifiers.0.key"),
        ({"name": "A", "identifiers": [{"key": "org id", "value": "v"}]}, "identifiers.0.key"),
        ({"name": "A", "identifiers": [{"key": "org_id", "value": ""}]}, "identifiers.0.value"),
        (
            {"name": "A", "identifiers": [{"key": "k", "value": "v"}, {"key": "k", "value": " v"}]},
            "identifiers.1.value",
        ),
        ({"name": "A\x00B"}, "name"),
        ({"name": "A", "identifiers": [{"key": "k"}]}, "identifiers.0.value"),
        ({"name": "A", "identifiers": "org_id=1"}, "identifiers"),
        ({"name": 12}, "name"),
        ({}, "name"),
    ],
)
def test_bad_customers_are_refused_with_the_field_at_fault(client, body, field):
    answer = post(client, make_key("customers:write"), body)
    assert answer.status_code == 422, answer.content
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert not VendorCustomer.objects.exists()


def test_a_patch_may_not_null_the_name_or_the_identifiers(client):
    customer = a_customer("Acme", identifiers=[("org_id", "A")])
    key = make_key("customers:write")
    for field in ("name", "identifiers"):
        answer = patch(client, key, customer.pk, {field: None})
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field
    assert CustomerIdentifier.objects.count() == 1


def test_a_key_limited_to_tenants_writes_no_customer(client):
    mine = a_customer("Mine", tenant_key="t1")
    theirs = a_customer("Theirs", tenant_key="t2")
    limited = make_key("customers:write", tenants=["t1"])
    refused = post(client, limited, {"name": "New"})
    assert refused.status_code == 403 and refused.json()["type"] == "urn:hireops:problem:tenant-limited-key"
    assert patch(client, limited, mine.pk, {"name": "X"}).status_code == 403
    assert patch(client, limited, theirs.pk, {"name": "X"}).status_code == 404
    assert sorted(VendorCustomer.objects.values_list("name", flat=True)) == ["Mine", "Theirs"]


def test_a_customer_written_twice_with_one_idempotency_key_is_written_once(client):
    key = make_key("customers:write")
    body = {"name": "Acme", "identifiers": [{"key": "org_id", "value": "A"}]}
    first = post(client, key, body, HTTP_IDEMPOTENCY_KEY="crm-1")
    again = post(client, key, body, HTTP_IDEMPOTENCY_KEY="crm-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert VendorCustomer.objects.count() == 1


def test_the_admin_moves_a_customer_forward_when_staff_change_only_an_identifier(admin_client):
    customer = a_customer("Acme", identifiers=[("org_id", "A")])
    VendorCustomer.objects.filter(pk=customer.pk).update(updated_at=timezone.now() - dt.timedelta(days=1))
    before = VendorCustomer.objects.get().updated_at
    url = f"/admin/bindings/vendorcustomer/{customer.pk}/change/"
    page = admin_client.get(url).content.decode()
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.update(
        {
            "name": "Acme",
            "contact": "",
            "notes": "",
            "identifiers-0-key": "org_id",
            "identifiers-0-value": "B",
        }
    )
    assert admin_client.post(url, {**data, "_save": "Save"}).status_code == 302
    assert CustomerIdentifier.objects.get().value == "B"
    assert VendorCustomer.objects.get().updated_at > before
