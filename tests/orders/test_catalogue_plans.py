"""The calls a push plans, from what Feishu has to what it should have (pure: no database)."""

import pytest

from orders.catalogue import plans

P = {"name": "基础套餐"}


def test_packages_create_update_and_delete_in_that_order():
    sent = {"packages": {"a": P, "b": P}, "items": {"x": P}}
    wanted = {"packages": {"a": {"name": "A2"}, "c": P}, "items": {"x": P, "y": P}}
    calls = plans.plan("packages", sent, wanted)
    assert [(c.op, c.body) for c in calls] == [
        (
            "create",
            {"package_list": [{"id": "c", **P}], "additional_item_list": [{"id": "y", **P}]},
        ),
        ("batch_update", {"package_list": [{"id": "a", "name": "A2"}]}),
        ("batch_delete", {"package_id_list": ["b"]}),
    ]
    assert calls[-1].after == wanted
    assert plans.plan("packages", wanted, wanted) == []


def test_form_fields_choose_delete_update_or_replace():
    f = {"type": "text", "key": "k", "name": {"zh_cn": "名"}, "is_required": False}
    renamed = {**f, "name": {"zh_cn": "新名"}}
    required = {**f, "is_required": True}
    assert plans.plan("form_fields", {}, {"fields": []}) == []
    assert [c.op for c in plans.plan("form_fields", {}, {"fields": [f]})] == ["create"]
    assert [c.op for c in plans.plan("form_fields", {"fields": [f]}, {"fields": [renamed]})] == [
        "batch_update"
    ]
    # is_required may not change through batch_update (UNCONFIRMED): the list is replaced.
    assert [c.op for c in plans.plan("form_fields", {"fields": [f]}, {"fields": [required]})] == ["create"]
    [delete] = plans.plan("form_fields", {"fields": [f]}, {"fields": []})
    assert (delete.op, delete.body, delete.retires) == ("batch_delete", {}, ("k",))
    with pytest.raises(plans.PlanRefused, match="k"):
        plans.plan("form_fields", {"fields": []}, {"fields": [f]}, retired=["k"])


def test_papers_update_in_place_only_with_the_same_ids():
    a, b = {"id": "a", "name": "A"}, {"id": "b", "name": "B"}
    assert [
        (c.op, c.body)
        for c in plans.plan("papers", {"papers": [a, b]}, {"papers": [a, {**b, "duration": 30}]})
    ] == [("batch_update", {"paper_list": [{**b, "duration": 30}]})]
    assert [c.op for c in plans.plan("papers", {"papers": [a]}, {"papers": [a, b]})] == ["create"]
    assert [(c.op, c.body) for c in plans.plan("papers", {"papers": [a, b]}, {"papers": []})] == [
        ("batch_delete", {"paper_id_list": ["a", "b"]})
    ]


def test_an_uncertain_call_is_settled_by_what_feishu_answers():
    uncertain = {"packages": {"n": P}, "items": {}}
    assert plans.probe(uncertain).body == {"package_list": [{"id": "n", **P}]}
    sent = {"packages": {"a": P}, "items": {}}
    assert plans.after_probe(sent, uncertain, exists=True)["packages"] == {"a": P, "n": P}
    assert plans.after_probe({"packages": {"a": P, "n": P}}, uncertain, exists=False)["packages"] == {"a": P}
