"""Publishing custom fields to the sandbox over HTTP."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections

from bindings import publishing
from bindings.models import CustomFieldDefinition, FieldPublish, FieldScope, TenantFieldScope
from bindings.publishing import PUBLISH, PublishRefused, fields_publish_request, scope_state, scope_touch
from bindings.selectors import tenants_behind
from hireops import outbound
from hireops.core.models import CallStatus
from hireops.outbound.retry import TryLater

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS_PATH = "/open-apis/hire/v1/eco_account_custom_fields"


def make_field(scope=1, key="account_token", **kw):
    defaults = {"name_zh": "账号令牌", "name_en": "Account token", "is_required": True}
    field = CustomFieldDefinition.objects.create(scope=scope, key=key, **{**defaults, **kw})
    scope_touch(scope)
    return field


def sandbox_fields(sandbox, scope):
    for entry in sandbox.state()["custom_fields"]:
        if entry["scope"] == scope:
            return entry["fields"]
    return None


def test_publish_sends_exactly_the_active_fields_of_one_scope(sandbox, admin_user):
    make_field(1, "account_token", display_order=2)
    make_field(1, "org_id", name_zh="组织编号", name_en="", is_required=False, display_order=1)
    make_field(1, "retired", is_active=False)
    make_field(2, "exam_key")

    publish = fields_publish_request(1, admin_user)[0]
    publish.refresh_from_db()
    assert publish.status == CallStatus.SUCCEEDED, publish.error
    calls = sandbox.requests(FIELDS_PATH)
    assert len(calls) == 1
    body = calls[0]["json"]
    assert body["scope"] == 1
    assert [f["key"] for f in body["custom_field_list"]] == ["org_id", "account_token"]
    assert publish.payload == body and publish.log_id and publish.requested_by == admin_user
    assert publish.attempts == 1
    assert [f["key"] for f in sandbox_fields(sandbox, 1)] == ["org_id", "account_token"]
    assert sandbox_fields(sandbox, 2) is None
    state = FieldScope.objects.get(scope=1)
    assert not tenants_behind(state) and tenants_behind(FieldScope.objects.get(scope=2))
    assert TenantFieldScope.objects.get(scope=1, tenant_key="").sending is None  # the lease is released


# Feishu's documented request sample (docs: 创建账号自定义字段, 请求体示例).
DOCUMENTED_SAMPLE = {
    "scope": 1,
    "custom_field_list": [
        {
            "key": "account_token",
            "name": {"zh_cn": "账号token", "en_us": "Account token"},
            "is_required": True,
            "description": {
                "zh_cn": "账号的唯一标识，可联系客服获取",
                "en_us": "The unique identifier of the account can be obtained by contacting "
                "the customer service",
            },
        }
    ],
}


def published_body(sandbox, **field) -> dict:
    sandbox.clear_requests()
    make_field(1, **field)
    publish = fields_publish_request(1)[0]
    publish.refresh_from_db()
    assert publish.status == CallStatus.SUCCEEDED, publish.error
    [call] = sandbox.requests(FIELDS_PATH)
    return call["json"]


def test_a_field_in_both_languages_is_sent_as_feishus_documented_sample(sandbox):
    documented = DOCUMENTED_SAMPLE["custom_field_list"][0]
    body = published_body(
        sandbox,
        key=documented["key"],
        name_zh=documented["name"]["zh_cn"],
        name_en=documented["name"]["en_us"],
        is_required=True,
        description_zh=documented["description"]["zh_cn"],
        description_en=documented["description"]["en_us"],
    )
    assert body == DOCUMENTED_SAMPLE


@pytest.mark.parametrize(
    ("texts", "name", "description"),
    [
        (
            {"name_zh": "", "name_en": "Region", "description_en": "Where the tenant is hosted"},
            {"en_us": "Region"},
            {"en_us": "Where the tenant is hosted"},
        ),
        (
            {"name_zh": "区域", "name_en": "", "description_zh": "租户所在区域"},
            {"zh_cn": "区域"},
            {"zh_cn": "租户所在区域"},
        ),
        (
            {"name_zh": "区域", "name_en": "Region", "description_zh": "租户所在区域"},
            {"zh_cn": "区域", "en_us": "Region"},
            {"zh_cn": "租户所在区域"},
        ),
        ({"name_zh": "区域", "name_en": "Region"}, {"zh_cn": "区域", "en_us": "Region"}, None),
        (
            {"name_zh": "区域", "name_en": "  ", "description_zh": " ", "description_en": ""},
            {"zh_cn": "区域"},
            None,
        ),
    ],
    ids=["english-only", "chinese-only", "description-in-one-language", "no-description", "blank-texts"],
)
def test_a_language_without_text_is_left_out_never_sent_empty(sandbox, texts, name, description):
    body = published_body(sandbox, key="region", is_required=False, **texts)
    [field] = body["custom_field_list"]
    expected = {"key": "region", "name": name, "is_required": False}
    if description is not None:
        expected["description"] = description
    assert field == expected
    # The documented shape: the same keys, in the same types, and no empty text anywhere.
    assert set(field) <= set(DOCUMENTED_SAMPLE["custom_field_list"][0])
    texts_sent = [t for key in ("name", "description") for t in field.get(key, {}).values()]
    assert all(isinstance(t, str) and t.strip() for t in texts_sent)


def test_a_field_with_no_name_in_either_language_is_refused_before_anything_is_sent(sandbox):
    make_field(1, "account_token")
    CustomFieldDefinition.objects.create(scope=1, key="nameless", name_zh=" ", name_en="")  # spaces only
    with pytest.raises(PublishRefused, match="nameless has no name in Chinese or in English"):
        fields_publish_request(1)
    assert FieldPublish.objects.count() == 0 and sandbox.requests(FIELDS_PATH) == []
    # A publish queued before the field lost its name fails with the same reason, sending nothing.
    publish = queued()
    assert outbound.run(PUBLISH, publish.pk) == CallStatus.FAILED
    publish.refresh_from_db()
    assert "nameless has no name" in publish.error and sandbox.requests(FIELDS_PATH) == []


def test_empty_scope_is_refused_and_nothing_is_sent(sandbox):
    make_field(2, "exam_key", is_active=False)
    with pytest.raises(PublishRefused, match="no active custom field"):
        fields_publish_request(2)
    assert FieldPublish.objects.count() == 0 and sandbox.requests(FIELDS_PATH) == []
    with pytest.raises(CommandError, match="no active custom field"):
        call_command("feishu_publish_fields", "--scope", "2")


def test_a_refusal_fails_the_publish_at_once_with_code_and_log_id(sandbox):
    make_field()
    # 1002001 with HTTP 400: "parameter error or system exception", documented as a refusal.
    sandbox.add_fault(FIELDS_PATH, "error", status=400, code=1002001, msg="参数错误或系统异常")
    publish = fields_publish_request(1)[0]
    publish.refresh_from_db()
    assert publish.status == CallStatus.FAILED
    assert publish.error_code == 1002001 and publish.log_id and publish.attempts == 1
    assert "not retried" in publish.error and "1002001" in publish.error
    assert len(sandbox.requests(FIELDS_PATH)) == 1  # neither the client nor the task tried again
    assert tenants_behind(FieldScope.objects.get(scope=1))  # still to be published


def test_a_server_error_is_retried_and_the_publish_stays_queued_meanwhile(sandbox):
    make_field()
    publish = queued()
    sandbox.add_fault(FIELDS_PATH, "error", count=1, status=500, code=1002001, msg="系统错误")
    with pytest.raises(TryLater):  # the task tries again later with backoff
        outbound.run(PUBLISH, publish.pk)
    publish.refresh_from_db()
    assert (publish.status, publish.error_code) == (CallStatus.QUEUED, 1002001)
    assert "tried again later" in publish.error and publish.log_id
    assert len(sandbox.requests(FIELDS_PATH)) == 1  # the client does not repeat it: the task will
    assert TenantFieldScope.objects.get(scope=1, tenant_key="").sending is None  # nobody holds it meanwhile

    assert outbound.run(PUBLISH, publish.pk) == CallStatus.SUCCEEDED  # the task's next try
    publish.refresh_from_db()
    assert (publish.error, publish.error_code, publish.attempts) == ("", None, 2)


def test_a_publish_given_up_on_says_why(sandbox):
    make_field()
    publish = queued()
    outbound.give_up(PUBLISH, publish.pk, "Feishu had an internal error")
    publish.refresh_from_db()
    assert publish.status == CallStatus.FAILED and publish.finished_at
    assert publish.error == "Feishu could not be reached after several tries: Feishu had an internal error"


def queued(scope=1):
    """A publish whose task has not run yet (what fields_publish_request leaves for the worker)."""
    return FieldPublish.objects.create(scope=scope)


def test_stale_publish_cannot_overwrite_a_newer_one(sandbox):
    make_field(1, "v1_key")
    stale = queued()  # requested while the list was [v1_key]
    CustomFieldDefinition.objects.filter(key="v1_key").update(is_active=False)
    make_field(1, "v2_key")
    newer = queued()

    assert outbound.run(PUBLISH, newer.pk) == CallStatus.SUCCEEDED
    assert outbound.run(PUBLISH, stale.pk) == CallStatus.SUCCEEDED  # the late worker runs after
    assert [f["key"] for f in sandbox_fields(sandbox, 1)] == ["v2_key"]
    bodies = [c["json"]["custom_field_list"] for c in sandbox.requests(FIELDS_PATH)]
    assert [[f["key"] for f in b] for b in bodies] == [["v2_key"], ["v2_key"]]
    assert outbound.run(PUBLISH, stale.pk) == CallStatus.SUCCEEDED  # a redelivered task does nothing
    assert len(sandbox.requests(FIELDS_PATH)) == 2


def run_in_thread(pk, results):
    def run():
        try:
            results[pk] = outbound.run(PUBLISH, pk)
        except TryLater as exc:
            results[pk] = exc
        finally:
            close_old_connections()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_publish_waits_while_the_first_is_being_sent(sandbox):
    make_field()
    first, second = queued(), queued()
    sandbox.add_fault(FIELDS_PATH, "slow", count=1, delay=1.0)
    results = {}
    thread = run_in_thread(first.pk, results)
    deadline = time.monotonic() + 5
    while not TenantFieldScope.objects.filter(
        scope=1, sending_id=first.pk
    ).exists():  # the first holds the lease
        assert time.monotonic() < deadline
        time.sleep(0.02)

    with pytest.raises(TryLater, match="Another publish of this scope to this tenant is being sent"):
        outbound.run(PUBLISH, second.pk)
    thread.join()
    assert results[first.pk] == CallStatus.SUCCEEDED
    assert len(sandbox.requests(FIELDS_PATH)) == 1  # the second sent nothing meanwhile
    assert outbound.run(PUBLISH, second.pk) == CallStatus.SUCCEEDED  # its retry, once the scope is free
    t1, t2 = sorted(c["time"] for c in sandbox.requests(FIELDS_PATH))
    assert t2 - t1 >= 0.9, "the second publish reached Feishu while the first was still running"


def test_a_publish_that_outlived_its_lease_is_followed_by_a_fresh_one(sandbox, monkeypatch):
    make_field(1, "v1_key")
    slow, newer = queued(), queued()
    monkeypatch.setattr(publishing, "LEASE", timedelta(seconds=0.3))
    sandbox.add_fault(FIELDS_PATH, "slow", count=1, delay=1.5)  # the first worker's call hangs
    results = {}
    thread = run_in_thread(slow.pk, results)
    time.sleep(0.8)  # its lease runs out while the call is still on its way
    CustomFieldDefinition.objects.filter(key="v1_key").update(is_active=False)
    make_field(1, "v2_key")
    assert outbound.run(PUBLISH, newer.pk) == CallStatus.SUCCEEDED  # takes over the expired lease
    thread.join()

    # The slow call landed after the newer one with the old list: the scope is published again.
    assert results[slow.pk] == CallStatus.SUCCEEDED
    bodies = [[f["key"] for f in c["json"]["custom_field_list"]] for c in sandbox.requests(FIELDS_PATH)]
    assert sorted(bodies) == [["v1_key"], ["v2_key"], ["v2_key"]] and bodies[-1] == ["v2_key"]
    assert [f["key"] for f in sandbox_fields(sandbox, 1)] == ["v2_key"]
    again = FieldPublish.objects.exclude(pk__in=[slow.pk, newer.pk]).get()
    assert again.status == CallStatus.SUCCEEDED and again.requested_by is None


def published_mark(client, scope: int) -> str:
    """The scopes list's "all published" mark on ``scope``'s row: Django's icon's alt text."""
    page = client.get("/admin/bindings/fieldscope/").content.decode()
    row = re.search(rf"<tr>(?:(?!</tr>).)*?/admin/bindings/fieldscope/{scope}/change/.*?</tr>", page, re.S)
    return re.search(r'class="field-published"><img [^>]*alt="(\w+)"', row.group(0)).group(1)


def test_admin_edit_marks_scope_and_publish_action(sandbox, admin_client):
    resp = admin_client.post(
        "/admin/bindings/customfielddefinition/add/",
        {
            "scope": 1,
            "key": "account_token",
            "name_zh": "账号令牌",
            "name_en": "",
            "is_active": "on",
            "display_order": 0,
            "description_zh": "",
            "description_en": "",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert tenants_behind(FieldScope.objects.get(scope=1))
    page = admin_client.get("/admin/bindings/customfielddefinition/").content.decode()
    assert "unpublished changes" in page or "未发布" in page
    assert published_mark(admin_client, scope=1) == "False"  # a red cross: Feishu is behind

    resp = admin_client.post(
        "/admin/bindings/fieldscope/", {"action": "publish", "_selected_action": [1, 2]}, follow=True
    )
    page = resp.content.decode()
    assert FieldPublish.objects.get(scope=1).status == CallStatus.SUCCEEDED
    assert not tenants_behind(FieldScope.objects.get(scope=1))
    assert published_mark(admin_client, scope=1) == "True"  # the good news in green
    assert FieldPublish.objects.filter(scope=2).count() == 0  # refused: nothing to publish
    assert "no active custom field" in page


def test_a_field_without_any_name_is_refused_on_its_name_field(admin_client):
    """Not with the database constraint's name as a form-wide error (field_has_a_name)."""
    resp = admin_client.post(
        "/admin/bindings/customfielddefinition/add/",
        {"scope": 1, "key": "org_id", "name_zh": " ", "name_en": "", "display_order": 0, "is_active": "on"},
    )
    assert resp.status_code == 200
    form = resp.context["adminform"].form
    assert form.errors == {"name_zh": ["Give the field a name in Chinese or in English."]}
    assert "field_has_a_name" not in resp.content.decode()
    assert CustomFieldDefinition.objects.count() == 0 and not tenants_behind(scope_state(1))


def test_admin_rejects_a_bad_key_and_a_nameless_field(admin_client):
    resp = admin_client.post(
        "/admin/bindings/customfielddefinition/add/",
        {
            "scope": 1,
            "key": "9 bad key",
            "name_zh": "",
            "name_en": "",
            "display_order": 0,
        },
    )
    assert resp.status_code == 200 and CustomFieldDefinition.objects.count() == 0
    assert not tenants_behind(scope_state(1))
