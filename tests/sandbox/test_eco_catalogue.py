"""The sandbox's eco catalogues over raw HTTP: Feishu's documented samples, rules and error
codes (docs/feishu.md §8.2, §8.3, §9.1), and orders that can only pick what an account offers."""

import pytest

from .helpers import HIRE, call, tenant_token

PACKAGES = HIRE + "/eco_background_check_packages"
FIELDS = HIRE + "/eco_background_check_custom_fields"
PAPERS = HIRE + "/eco_exam_papers"


@pytest.fixture
def token(sandbox):
    sandbox.bind_account(scope=1, account_id="6995842370159937061")
    sandbox.bind_account(scope=2, account_id="7147998241542539527")
    return tenant_token(sandbox)


def send(sandbox, token, method, path, body):
    resp = call(sandbox, method, path, token, json=body)
    return resp.status_code, resp.json()["code"]


def catalogue(sandbox, account_id="6995842370159937061"):
    return next(c for c in sandbox.state()["catalogues"] if c["account_id"] == account_id)


DOCUMENTED_PACKAGES = {
    "account_id": "6995842370159937061",
    "package_list": [{"id": "pkg001", "name": "基础套餐", "description": "工作履历信息验证X1，教育背景核实"}],
    "additional_item_list": [{"id": "ext001", "name": "工作履历信息验证X2", "description": "详细调查"}],
}


def test_packages_are_incremental(sandbox, token):
    assert send(sandbox, token, "POST", PACKAGES, DOCUMENTED_PACKAGES) == (200, 0)
    assert send(sandbox, token, "POST", PACKAGES, DOCUMENTED_PACKAGES) == (400, 1002001)  # created already
    more = {"account_id": "6995842370159937061", "package_list": [{"id": "pkg002", "name": "高级套餐"}]}
    assert send(sandbox, token, "POST", PACKAGES, more) == (200, 0)
    assert set(catalogue(sandbox)["packages"]) == {"pkg001", "pkg002"}
    renamed = {**DOCUMENTED_PACKAGES, "package_list": [{"id": "pkg001", "name": "基础套餐 v2"}]}
    assert send(sandbox, token, "PATCH", PACKAGES + "/batch_update", renamed) == (200, 0)
    unknown = {**DOCUMENTED_PACKAGES, "package_list": [{"id": "nope", "name": "x"}]}
    assert send(sandbox, token, "PATCH", PACKAGES + "/batch_update", unknown) == (400, 1002001)
    assert catalogue(sandbox)["packages"]["pkg001"] == {"name": "基础套餐 v2"}
    too_long = {**DOCUMENTED_PACKAGES, "package_list": [{"id": "x" * 37, "name": "x"}]}
    assert send(sandbox, token, "POST", PACKAGES, too_long) == (400, 1002001)
    delete = {
        "account_id": "6995842370159937061",
        "package_id_list": ["pkg002"],
        "additional_item_id_list": ["ext001"],
    }
    assert send(sandbox, token, "POST", PACKAGES + "/batch_delete", delete) == (200, 0)
    assert send(sandbox, token, "POST", PACKAGES + "/batch_delete", delete) == (400, 1002859)
    assert (set(catalogue(sandbox)["packages"]), catalogue(sandbox)["items"]) == ({"pkg001"}, {})
    exam_account = {**DOCUMENTED_PACKAGES, "account_id": "7147998241542539527"}
    assert send(sandbox, token, "POST", PACKAGES, exam_account) == (400, 1002001)


DOCUMENTED_FIELDS = {
    "account_id": "6995842370159937061",
    "custom_field_list": [
        {
            "type": "select",
            "key": "candidate_degree",
            "name": {"zh_cn": "候选人学历", "en_us": "Candidate degree"},
            "is_required": True,
            "description": {"zh_cn": "候选人的真实学历", "en_us": "The candidate's real degree"},
            "options": [{"key": "bachelor", "name": {"zh_cn": "本科", "en_us": "Bachelor"}}],
        }
    ],
}


def test_order_form_fields_replace_rename_and_retire(sandbox, token):
    assert send(sandbox, token, "POST", FIELDS, DOCUMENTED_FIELDS) == (200, 0)
    renamed = {
        **DOCUMENTED_FIELDS,
        "custom_field_list": [
            {
                **DOCUMENTED_FIELDS["custom_field_list"][0],
                "name": {"zh_cn": "候选人学历", "en_us": "Candidate's degree"},
            }
        ],
    }
    assert send(sandbox, token, "PATCH", FIELDS + "/batch_update", renamed) == (200, 0)
    assert catalogue(sandbox)["fields"][0]["name"]["en_us"] == "Candidate's degree"
    longer = {
        **renamed,
        "custom_field_list": [
            *renamed["custom_field_list"],
            {"type": "text", "key": "x", "name": {"zh_cn": "x"}, "is_required": False},
        ],
    }
    assert send(sandbox, token, "PATCH", FIELDS + "/batch_update", longer) == (
        400,
        1002001,
    )  # the length is fixed
    retyped = {**renamed, "custom_field_list": [{**renamed["custom_field_list"][0], "type": "multiselect"}]}
    assert send(sandbox, token, "PATCH", FIELDS + "/batch_update", retyped) == (400, 1002001)
    no_options = {
        **DOCUMENTED_FIELDS,
        "custom_field_list": [{**DOCUMENTED_FIELDS["custom_field_list"][0], "options": []}],
    }
    assert send(sandbox, token, "POST", FIELDS, no_options) == (400, 1002855)
    bad_type = {
        **DOCUMENTED_FIELDS,
        "custom_field_list": [{**DOCUMENTED_FIELDS["custom_field_list"][0], "type": "color"}],
    }
    assert send(sandbox, token, "POST", FIELDS, bad_type) == (400, 1002855)
    assert send(sandbox, token, "POST", FIELDS + "/batch_delete", {"account_id": "6995842370159937061"}) == (
        200,
        0,
    )
    assert catalogue(sandbox)["fields"] == [] and catalogue(sandbox)["retired_keys"] == ["candidate_degree"]
    assert send(sandbox, token, "POST", FIELDS, DOCUMENTED_FIELDS) == (400, 1002855)  # never again
    assert send(sandbox, token, "POST", FIELDS + "/batch_delete", {}) == (400, 1002860)


DOCUMENTED_PAPERS = {
    "account_id": "7147998241542539527",
    "paper_list": [
        {
            "id": "7147998241542539527",
            "name": "春季测评",
            "duration": 30,
            "question_count": 30,
            "start_time": "1658676234053",
            "end_time": "1672444800000",
        }
    ],
}


def test_papers_replace_overwrite_and_delete(sandbox, token):
    assert send(sandbox, token, "POST", PAPERS, DOCUMENTED_PAPERS) == (200, 0)
    other = {**DOCUMENTED_PAPERS, "paper_list": [{"id": "p2", "name": "秋季测评"}]}
    assert send(sandbox, token, "POST", PAPERS, other) == (200, 0)  # the last list wins
    assert [p["id"] for p in catalogue(sandbox, "7147998241542539527")["papers"]] == ["p2"]
    overwrite = {**DOCUMENTED_PAPERS, "paper_list": [{"id": "p2", "name": "秋季测评 v2", "duration": 45}]}
    assert send(sandbox, token, "PATCH", PAPERS + "/batch_update", overwrite) == (200, 0)
    assert send(sandbox, token, "PATCH", PAPERS + "/batch_update", DOCUMENTED_PAPERS) == (500, 1002001)
    backwards = {
        "account_id": "7147998241542539527",
        "paper_list": [{"id": "p3", "name": "x", "start_time": "2", "end_time": "1"}],
    }
    assert send(sandbox, token, "POST", PAPERS, backwards) == (500, 1002001)  # every paper error is a 500
    long_id = {"account_id": "7147998241542539527", "paper_list": [{"id": "x" * 300, "name": "y"}]}
    assert send(sandbox, token, "POST", PAPERS, long_id) == (200, 0)
    assert catalogue(sandbox, "7147998241542539527")["papers"][0]["id"] == "x" * 255  # truncated, not refused
    delete = {"account_id": "7147998241542539527", "paper_id_list": ["x" * 255, "never-existed"]}
    assert send(sandbox, token, "POST", PAPERS + "/batch_delete", delete) == (200, 0)
    assert catalogue(sandbox, "7147998241542539527")["papers"] == []


def test_orders_pick_from_what_the_account_offers(sandbox, token):
    from sandbox.control import SandboxError

    with pytest.raises(SandboxError, match="offers no package"):
        sandbox.create_background_check("6995842370159937061")
    send(sandbox, token, "POST", PACKAGES, DOCUMENTED_PACKAGES)
    event = sandbox.create_background_check("6995842370159937061")["event"]
    assert event["package_id"] == "pkg001"  # no package asked for: the first one
    with pytest.raises(SandboxError, match="offers no additional item 'ext009'"):
        sandbox.create_background_check("6995842370159937061", additional_item_id_list=["ext009"])
    with pytest.raises(SandboxError, match="offers no exam paper"):
        sandbox.create_exam("7147998241542539527")
    send(sandbox, token, "POST", PAPERS, DOCUMENTED_PAPERS)
    assert sandbox.create_exam("7147998241542539527")["event"]["paper_id"] == "7147998241542539527"
