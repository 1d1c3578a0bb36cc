"""/api/v1/catalogue: the packages and papers on offer read as one document each, a PUT of that
document replacing the list as the admin edits it (validated by the admin's forms before
anything is saved or queued, rolled out through the same rollout and outbound engine), and
the rollout's per-tenant pushes read back."""

import datetime as dt
import itertools
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from bindings.models import CustomerIdentifier, EcoAccountBinding, MatchingRule, VendorCustomer
from hireops.api.models import ApiKey
from hireops.core.models import CallStatus
from orders.catalogue.models import AdditionalItem, CataloguePush, CatalogueRollout, ExamPaper, Package
from orders.models import Exam
from tests.orders import conftest as orders_conftest
from tests.orders.conftest import deliver
from tests.tenants import conftest as tenants_conftest

from .keys import bearer, make_key

PACKAGES_PATH = "/open-apis/hire/v1/eco_background_check_packages"
PAPERS_PATH = "/open-apis/hire/v1/eco_exam_papers"
webhook_secrets = orders_conftest.webhook_secrets
store = tenants_conftest.store  # a store app installed by t-acme and t-globex, in the sandbox
_ids = itertools.count(1)


def rollout_in(tenant_key: str) -> str:
    """A finished rollout that pushed the packages to one bound account of ``tenant_key``."""
    n = next(_ids)
    customer = VendorCustomer.objects.create(name=f"Customer {n}")
    binding = EcoAccountBinding.objects.create(
        app_id="cli_test",
        tenant_key=tenant_key,
        account_id=f"acc-{tenant_key}-{n}",
        scope=1,
        status="bound",
        customer=customer,
    )
    rollout = CatalogueRollout.objects.create(
        catalogue="packages", status="done", total=1, considered=1, queued=1
    )
    CataloguePush.objects.create(
        binding=binding,
        catalogue="packages",
        tenant_key=tenant_key,
        reason="changed",
        rollout=rollout,
        status=CallStatus.SUCCEEDED,
        finished_at=timezone.now(),
    )
    return str(rollout.pk)


# The enumeration of every operation (tests/api/test_every_operation.py: no key, revoked,
# missing scope, other tenant) makes its objects here.
EXAMPLES = {
    "/catalogue/rollouts/{id}": rollout_in,
    "/catalogue/rollouts/{id}/pushes": rollout_in,
}


def put(client, key, path, body, **headers):
    return client.put(
        f"/api/v1/catalogue/{path}",
        json.dumps(body),
        content_type="application/json",
        **bearer(key),
        **headers,
    )


def get(client, key, path):
    answer = client.get(f"/api/v1/{path}", **bearer(key))
    assert answer.status_code == 200, answer.content
    return answer.json()


def pushed(sandbox, prefix=PACKAGES_PATH) -> list[tuple[str, str, dict]]:
    return [
        (r["path"].removeprefix(prefix) or "/", r.get("tenant_key", ""), r["json"])
        for r in sandbox.requests()
        if r["path"].startswith(prefix)
    ]


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_packages_and_papers_on_offer_read_as_one_document_each(client):
    acme = VendorCustomer.objects.create(name="Acme")
    Package.objects.create(code="pkg-b", name="B", display_order=2, turnaround_days=10)
    gold = Package.objects.create(code="pkg-a", name="A", description="金", display_order=1)
    gold.only_for.add(acme)
    Package.objects.create(code="pkg-old", name="Old", is_active=False)
    AdditionalItem.objects.create(code="ext-1", name="征信")
    opens = timezone.now().replace(microsecond=0)
    ExamPaper.objects.create(
        code="paper-1",
        name="春季",
        duration_minutes=30,
        starts_at=opens,
        ends_at=opens + dt.timedelta(days=7),
    )
    key = make_key("catalogue:read")

    body = get(client, key, "catalogue/packages")
    assert [(p["id"], p["name"], p["only_for"], p["turnaround_days"]) for p in body["packages"]] == [
        ("pkg-a", "A", [acme.pk], 7),
        ("pkg-b", "B", [], 10),
    ]
    assert [(i["id"], i["description"]) for i in body["additional_items"]] == [("ext-1", "")]
    [paper] = get(client, key, "catalogue/exam-papers")["papers"]
    assert (paper["id"], paper["duration_minutes"], paper["question_count"]) == ("paper-1", 30, None)
    assert dt.datetime.fromisoformat(paper["starts_at"]) == opens


# --- replacing, through the rollout and the outbound engine to the sandbox ----------------------


def bind(client, sandbox, tenant_key, org, scope=1) -> VendorCustomer:
    """A customer of ``tenant_key`` whose account Feishu binds (the catalogue is pushed)."""
    customer = VendorCustomer.objects.create(name=org)
    CustomerIdentifier.objects.create(customer=customer, key="org_id", value=org)
    event = sandbox.bind_account(
        scope=scope, tenant_key=tenant_key, custom_field_list=[{"key": "org_id", "value": org}]
    )
    deliver(client, event)
    assert EcoAccountBinding.objects.get(customer=customer).status == "bound"
    return customer


@pytest.fixture
def two_tenants(client, store):
    """t-acme and t-globex each with a bound background-check account, offered one package."""
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    MatchingRule.objects.create(scope=2, keys=["org_id"])
    Package.objects.create(code="pkg-basic", name="基础套餐")
    bind(client, store, "t-acme", "ACME")
    bind(client, store, "t-globex", "GLOBEX")
    store.clear_requests()
    return store


def accounts(tenant_key) -> str:
    return EcoAccountBinding.objects.get(tenant_key=tenant_key, scope=1).account_id


@pytest.mark.django_db(transaction=True)
def test_a_replacement_reaches_both_tenants_and_each_ones_state_shows(client, two_tenants):
    sandbox, key = two_tenants, make_key("catalogue:read", "catalogue:write", name="vendor case system")
    body = {
        "packages": [
            {"id": "pkg-basic", "name": "基础套餐", "description": "工作履历验证"},
            {"id": "pkg-senior", "name": "高管套餐", "turnaround_days": 10},
        ],
        "additional_items": [{"id": "ext-credit", "name": "个人信用报告"}],
    }
    answer = put(client, key, "packages", body)
    assert answer.status_code == 202, answer.content
    out = answer.json()
    assert (out["changed"], out["added"], out["updated"], out["withdrawn"]) == (
        True,
        ["pkg-senior", "ext-credit"],
        ["pkg-basic"],
        [],
    )
    assert out["rollout"]["status"] == "queued" and out["rollout"]["catalogue"] == "packages"

    # The rollout ran on commit (eager Celery): each tenant's account got the difference, once.
    sent = pushed(sandbox)
    assert sorted(b["account_id"] for p, _t, b in sent if p == "/") == sorted(
        [accounts("t-acme"), accounts("t-globex")]
    )
    creates = [b for p, _, b in sent if p == "/"]
    assert creates[0]["package_list"] == [{"id": "pkg-senior", "name": "高管套餐"}]
    assert creates[0]["additional_item_list"] == [{"id": "ext-credit", "name": "个人信用报告"}]
    assert len([p for p, _, _ in sent if p == "/batch_update"]) == 2  # pkg-basic's description
    assert len({r["headers"]["Authorization"] for r in sandbox.requests(PACKAGES_PATH)}) == 2  # two tenants
    assert Package.objects.get(code="pkg-senior").turnaround_days == 10

    rollout_id = out["rollout"]["id"]
    rollout = get(client, key, f"catalogue/rollouts/{rollout_id}")
    assert (rollout["status"], rollout["accounts"], rollout["accounts_looked_at"]) == ("done", 2, 2)
    assert rollout["pushes"] == {"queued": 0, "sent": 2, "failed": 0}
    pushes = get(client, key, f"catalogue/rollouts/{rollout_id}/pushes")["data"]
    assert sorted((p["tenant"], p["account_id"], p["status"]) for p in pushes) == [
        ("t-acme", accounts("t-acme"), "sent"),
        ("t-globex", accounts("t-globex"), "sent"),
    ]

    # The change history names the key, on each entry and on the rollout.
    actor = ApiKey.objects.get(prefix=key[:12]).actor
    logged = LogEntry.objects.filter(user=actor)
    assert logged.count() == 4  # two added, one changed, the rollout
    assert any("description" in e.change_message for e in logged)

    # Feishu refuses it for one tenant: that push fails with Feishu's message, the other is sent.
    refusal = {"count": 1, "status": 400, "code": 1002001, "msg": "参数错误或系统异常"}
    sandbox.add_fault(PACKAGES_PATH + "/batch_update", "error", **refusal)
    body["packages"][1]["name"] = "高管套餐 Plus"
    second = put(client, key, "packages", body).json()
    assert second["updated"] == ["pkg-senior"] and second["rollout"]["id"] != rollout_id
    rows = get(client, key, f"catalogue/rollouts/{second['rollout']['id']}/pushes")["data"]
    assert sorted(p["status"] for p in rows) == ["failed", "sent"]
    [failed] = [p for p in rows if p["status"] == "failed"]
    assert failed["error_code"] == 1002001 and "参数错误或系统异常" in failed["error"], failed["error"]
    assert get(client, key, f"catalogue/rollouts/{second['rollout']['id']}")["pushes"]["failed"] == 1
    only_failed = get(client, key, f"catalogue/rollouts/{second['rollout']['id']}/pushes?status=failed")
    assert [p["id"] for p in only_failed["data"]] == [failed["id"]]

    # The same document again: nothing saved, nothing queued, nothing sent (a failed push is
    # repeated where staff repeat it, "Push again").
    sandbox.clear_requests()
    rollouts = CatalogueRollout.objects.count()
    again = put(client, key, "packages", body)
    assert again.status_code == 200
    assert again.json() == {
        "catalogue": "packages",
        "changed": False,
        "added": [],
        "updated": [],
        "withdrawn": [],
        "rollout": None,
    }
    assert CatalogueRollout.objects.count() == rollouts and pushed(sandbox) == []


@pytest.mark.django_db(transaction=True)
def test_an_entry_not_listed_is_withdrawn_and_feishu_deletes_it(client, two_tenants):
    sandbox, key = two_tenants, make_key("catalogue:write")
    answer = put(client, key, "packages", {"packages": [], "additional_items": []})
    assert answer.status_code == 202 and answer.json()["withdrawn"] == ["pkg-basic"]
    assert sorted(b["account_id"] for p, _, b in pushed(sandbox) if p == "/batch_delete") == sorted(
        [accounts("t-acme"), accounts("t-globex")]
    )
    withdrawn = Package.objects.get(code="pkg-basic")
    assert not withdrawn.is_active  # kept: the orders placed with it keep their turnaround
    # Listed again: brought back and created again in Feishu.
    sandbox.clear_requests()
    back = put(
        client,
        key,
        "packages",
        {"packages": [{"id": "pkg-basic", "name": "基础套餐"}], "additional_items": []},
    )
    assert back.json()["added"] == ["pkg-basic"]
    assert len([p for p, _, _ in pushed(sandbox) if p == "/"]) == 2


@pytest.mark.django_db(transaction=True)
def test_a_refused_replacement_is_422_with_the_fields_and_nothing_changes_or_is_queued(client, two_tenants):
    sandbox, key = two_tenants, make_key("catalogue:write")
    before = list(Package.objects.values_list("code", "name", "is_active", "updated_at"))
    rollouts, pushes, logged = (
        CatalogueRollout.objects.count(),
        CataloguePush.objects.count(),
        LogEntry.objects.count(),
    )
    body = {
        "packages": [
            {"id": "pkg-basic", "name": "  "},  # blank once stripped, as the admin's form strips it
            {"id": "pkg-new", "name": "新", "only_for": [987654]},  # no such customer
            {"id": "pkg-new", "name": "又一个"},  # listed twice
        ],
        "additional_items": [{"id": "ext-1", "name": "X", "description": "\x00"}],
    }
    answer = put(client, key, "packages", body)
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    assert "additional_items.0.description" in {e["field"] for e in answer.json()["errors"]}
    del body["additional_items"][0]["description"]  # the schema's refusals first, then the forms'
    answer = put(client, key, "packages", body)
    assert answer.status_code == 422, answer.content
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"packages.0.name", "packages.1.only_for", "packages.2.id"}
    # Feishu's own limits, in the schema: an id of at most 36 characters, of its characters.
    for entry, field in (
        ({"id": "x" * 37, "name": "A"}, "packages.0.id"),
        ({"id": "pkg 1", "name": "A"}, "packages.0.id"),
        ({"id": "pkg-1", "name": "名" * 101}, "packages.0.name"),
    ):
        refused = put(client, key, "packages", {"packages": [entry], "additional_items": []})
        assert refused.status_code == 422 and field in {e["field"] for e in refused.json()["errors"]}
    assert list(Package.objects.values_list("code", "name", "is_active", "updated_at")) == before
    assert not AdditionalItem.objects.exists()
    assert (CatalogueRollout.objects.count(), CataloguePush.objects.count()) == (rollouts, pushes)
    assert LogEntry.objects.count() == logged
    assert pushed(sandbox) == []


@pytest.mark.django_db
def test_a_key_limited_to_tenants_reads_but_may_not_replace_the_shared_catalogue(client):
    Package.objects.create(code="pkg-basic", name="基础套餐")
    rollouts = CatalogueRollout.objects.count()
    limited = make_key("catalogue:read", "catalogue:write", tenants=["t-acme"])
    answer = put(client, limited, "packages", {"packages": [], "additional_items": []})
    assert answer.status_code == 403 and answer.json()["type"] == "urn:hireops:problem:catalogue-shared"
    assert Package.objects.get().is_active and CatalogueRollout.objects.count() == rollouts
    assert [p["id"] for p in get(client, limited, "catalogue/packages")["packages"]] == ["pkg-basic"]
    # Rollouts: only those that pushed to its tenants, and only those pushes.
    acme, globex = rollout_in("t-acme"), rollout_in("t-globex")
    everyone = make_key("catalogue:read")
    assert client.get(f"/api/v1/catalogue/rollouts/{globex}", **bearer(limited)).status_code == 404
    assert get(client, limited, f"catalogue/rollouts/{acme}")["pushes"]["sent"] == 1
    assert get(client, everyone, f"catalogue/rollouts/{globex}")["pushes"]["sent"] == 1
    shared = CatalogueRollout.objects.get(pk=acme)
    CataloguePush.objects.filter(rollout_id=globex).update(rollout=shared)
    assert get(client, everyone, f"catalogue/rollouts/{acme}")["pushes"]["sent"] == 2
    assert get(client, limited, f"catalogue/rollouts/{acme}")["pushes"]["sent"] == 1
    rows = get(client, limited, f"catalogue/rollouts/{acme}/pushes")["data"]
    assert [p["tenant"] for p in rows] == ["t-acme"]


@pytest.mark.django_db
def test_walking_a_rollouts_pushes_returns_each_once_and_filters_by_tenant(client):
    rollout = CatalogueRollout.objects.get(pk=rollout_in("t-acme"))
    for tenant in ("t-acme", "t-globex", "t-acme", "t-globex"):
        other = CataloguePush.objects.get(
            pk=CataloguePush.objects.filter(rollout_id=rollout_in(tenant)).get().pk
        )
        CataloguePush.objects.filter(pk=other.pk).update(rollout=rollout)
    key = make_key("catalogue:read")
    seen, url, pages = [], f"/api/v1/catalogue/rollouts/{rollout.pk}/pushes?limit=2", 0
    while url:
        body = get(client, key, url.removeprefix("/api/v1/"))
        seen += [p["id"] for p in body["data"]]
        pages += 1
        url = (
            f"/api/v1/catalogue/rollouts/{rollout.pk}/pushes?limit=2&cursor={body['next_cursor']}"
            if body["next_cursor"]
            else None
        )
    assert sorted(seen) == sorted(rollout.pushes.values_list("pk", flat=True)) and len(seen) == 5
    assert pages == 3
    globex = get(client, key, f"catalogue/rollouts/{rollout.pk}/pushes?tenant=t-globex")["data"]
    assert [p["tenant"] for p in globex] == ["t-globex", "t-globex"]
    for query in ("cursor=nope", "limit=0", "status=sending", "tenant=%00"):
        bad = client.get(f"/api/v1/catalogue/rollouts/{rollout.pk}/pushes?{query}", **bearer(key))
        assert bad.status_code == 400 and bad.json()["errors"], (query, bad.content)
    for missing in ("0", "99999999", str(2**70), "x"):
        answer = client.get(f"/api/v1/catalogue/rollouts/{missing}", **bearer(key))
        assert answer.status_code in (400, 404), (missing, answer.content)


@pytest.mark.django_db(transaction=True)
def test_exam_papers_are_replaced_whole_and_moving_arranged_exams_needs_saying_so(client, store):
    sandbox, key = store, make_key("catalogue:read", "catalogue:write")
    MatchingRule.objects.create(scope=2, keys=["org_id"])
    opens = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    ExamPaper.objects.create(
        code="paper-1", name="春季测评", starts_at=opens, ends_at=opens + dt.timedelta(days=7)
    )
    bind(client, sandbox, "t-acme", "ACME", scope=2)
    bind(client, sandbox, "t-globex", "GLOBEX", scope=2)
    Exam.objects.create(
        app_id="cli", tenant_key="t-acme", account_id="a", exam_id="exam-1", paper_id="paper-1"
    )
    sandbox.clear_requests()
    document = get(client, key, "catalogue/exam-papers")
    document["papers"][0]["ends_at"] = (opens + dt.timedelta(days=14)).isoformat()
    document["papers"].append({"id": "paper-2", "name": "秋季测评", "duration_minutes": 45})

    refused = put(client, key, "exam-papers", document)
    assert refused.status_code == 422, refused.content
    [error] = refused.json()["errors"]
    assert error["field"] == "move_scheduled_exams" and "exam-1" in error["message"]
    assert not ExamPaper.objects.filter(code="paper-2").exists() and pushed(sandbox, PAPERS_PATH) == []

    closes_first = {
        **document,
        "papers": [
            {
                **document["papers"][1],
                "starts_at": opens.isoformat(),
                "ends_at": (opens - dt.timedelta(hours=1)).isoformat(),
            }
        ],
    }
    assert "papers.0.ends_at" in {
        e["field"] for e in put(client, key, "exam-papers", closes_first).json()["errors"]
    }

    answer = put(client, key, "exam-papers", {**document, "move_scheduled_exams": True})
    assert answer.status_code == 202, answer.content
    assert answer.json()["added"] == ["paper-2"] and answer.json()["updated"] == ["paper-1"]
    creates = [b for p, _, b in pushed(sandbox, PAPERS_PATH) if p == "/"]  # a full replace
    assert len(creates) == 2 and [p["id"] for p in creates[0]["paper_list"]] == ["paper-1", "paper-2"]
    rollout = get(client, key, f"catalogue/rollouts/{answer.json()['rollout']['id']}")
    assert rollout["catalogue"] == "exam_papers" and rollout["pushes"]["sent"] == 2
