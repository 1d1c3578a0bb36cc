"""Eco account custom fields (docs/feishu.md §2)."""

import pytest

from .helpers import FIELDS, call, field, post, store_tenant_token, tenant_token


def fields_of(sandbox, tenant="demo-tenant", scope=1):
    for slot in sandbox.state()["custom_fields"]:
        if (slot["tenant_key"], slot["scope"]) == (tenant, scope):
            return slot
    return None


def test_create_is_full_replace_per_scope(sandbox):
    token = tenant_token(sandbox)
    first = post(
        sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("a"), field("b", required=False)]}, token
    )
    assert first.status_code == 200
    assert first.json() == {"code": 0, "msg": "ok", "data": {}}
    post(sandbox, FIELDS, {"scope": 2, "custom_field_list": [field("exam_key")]}, token)
    post(
        sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("c", description={"zh_cn": "提示"})]}, token
    )
    assert [f["key"] for f in fields_of(sandbox, scope=1)["fields"]] == ["c"]
    assert fields_of(sandbox, scope=1)["fields"][0]["description"] == {"zh_cn": "提示"}
    assert [f["key"] for f in fields_of(sandbox, scope=2)["fields"]] == ["exam_key"]  # other scope untouched


def test_fields_are_per_tenant(sandbox):
    post(sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("demo_only")]}, tenant_token(sandbox))
    acme = store_tenant_token(sandbox, "acme-tenant")
    post(sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("acme_only")]}, acme)
    assert [f["key"] for f in fields_of(sandbox, "demo-tenant")["fields"]] == ["demo_only"]
    assert [f["key"] for f in fields_of(sandbox, "acme-tenant")["fields"]] == ["acme_only"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"custom_field_list": [field("a")]}, "scope"),
        ({"scope": 3, "custom_field_list": [field("a")]}, "scope"),
        ({"scope": True, "custom_field_list": [field("a")]}, "scope"),
        ({"scope": 1}, "custom_field_list"),
        ({"scope": 1, "custom_field_list": []}, "custom_field_list"),
        (
            {"scope": 1, "custom_field_list": [{"name": {"zh_cn": "x"}, "is_required": True}]},
            "custom_field_list[0].key",
        ),
        ({"scope": 1, "custom_field_list": [field("a"), field("a")]}, "custom_field_list[1].key"),
        ({"scope": 1, "custom_field_list": [{"key": "a", "is_required": True}]}, "custom_field_list[0].name"),
        ({"scope": 1, "custom_field_list": [field("a", zh="", en="")]}, "custom_field_list[0].name"),
        (
            {"scope": 1, "custom_field_list": [{"key": "a", "name": {"en_us": "A"}}]},
            "custom_field_list[0].is_required",
        ),
        ({"scope": 1, "custom_field_list": [field("a", required="yes")]}, "custom_field_list[0].is_required"),
        (
            {"scope": 1, "custom_field_list": [field("a", description="text")]},
            "custom_field_list[0].description",
        ),
    ],
)
def test_create_validation(sandbox, body, needle):
    resp = post(sandbox, FIELDS, body, tenant_token(sandbox))
    assert resp.status_code == 400
    assert resp.json()["code"] == 1002002
    assert needle in resp.json()["msg"]
    assert fields_of(sandbox) is None  # nothing stored


def test_name_with_only_one_language_is_enough(sandbox):
    body = {"scope": 2, "custom_field_list": [{"key": "k", "name": {"en_us": "Key"}, "is_required": False}]}
    assert post(sandbox, FIELDS, body, tenant_token(sandbox)).json()["code"] == 0


def test_batch_update_changes_only_names_and_descriptions_of_existing_keys(sandbox):
    token = tenant_token(sandbox)
    post(sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("a", zh="旧"), field("b")]}, token)
    update = {
        "scope": 1,
        "custom_field_list": [field("a", zh="新", required=False, description={"en_us": "hint"})],
    }
    resp = call(sandbox, "PATCH", FIELDS + "/batch_update", token, json=update)
    assert resp.json() == {"code": 0, "msg": "ok", "data": {}}
    a, b = fields_of(sandbox)["fields"]
    assert a == {
        "key": "a",
        "name": {"zh_cn": "新", "en_us": "Field"},
        "is_required": True,
        "description": {"en_us": "hint"},
    }  # is_required "does not take effect yet"
    assert b["key"] == "b"
    missing = call(
        sandbox,
        "PATCH",
        FIELDS + "/batch_update",
        token,
        json={"scope": 1, "custom_field_list": [field("zzz")]},
    )
    assert missing.status_code == 400 and missing.json()["code"] == 1002002 and "zzz" in missing.json()["msg"]
    other_scope = call(
        sandbox,
        "PATCH",
        FIELDS + "/batch_update",
        token,
        json={"scope": 2, "custom_field_list": [field("a")]},
    )
    assert other_scope.json()["code"] == 1002002


def test_batch_delete_rules(sandbox):
    token = tenant_token(sandbox)
    post(sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("a"), field("b"), field("c")]}, token)
    every = post(
        sandbox, FIELDS + "/batch_delete", {"scope": 1, "custom_field_key_list": ["a", "b", "c"]}, token
    )
    assert every.status_code == 400 and every.json()["code"] == 1002002 and "every" in every.json()["msg"]
    assert len(fields_of(sandbox)["fields"]) == 3

    ok = post(sandbox, FIELDS + "/batch_delete", {"scope": 1, "custom_field_key_list": ["a", "b"]}, token)
    assert ok.json() == {"code": 0, "msg": "ok", "data": {}}
    slot = fields_of(sandbox)
    assert [f["key"] for f in slot["fields"]] == ["c"] and slot["deleted_keys"] == ["a", "b"]

    # A deleted key can never be reused, not even by a full replace.
    reuse = post(sandbox, FIELDS, {"scope": 1, "custom_field_list": [field("a")]}, token)
    assert reuse.json()["code"] == 1002002 and "'a'" in reuse.json()["msg"]
    assert post(sandbox, FIELDS, {"scope": 2, "custom_field_list": [field("a")]}, token).json()["code"] == 0

    last = post(sandbox, FIELDS + "/batch_delete", {"scope": 1, "custom_field_key_list": ["c"]}, token)
    assert last.json()["code"] == 1002002
    unknown = post(sandbox, FIELDS + "/batch_delete", {"scope": 1, "custom_field_key_list": ["nope"]}, token)
    assert unknown.json()["code"] == 1002002
    again = post(sandbox, FIELDS + "/batch_delete", {"scope": 1, "custom_field_key_list": ["a"]}, token)
    assert again.json()["code"] == 0  # retrying a delete is harmless
    empty = post(sandbox, FIELDS + "/batch_delete", {"scope": 1, "custom_field_key_list": []}, token)
    assert empty.json()["code"] == 1002002
    assert (
        post(sandbox, FIELDS + "/batch_delete", {"custom_field_key_list": ["c"]}, token).json()["code"]
        == 1002002
    )
